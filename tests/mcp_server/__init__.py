"""Tests of mcp_server/: configuration, the MCP protocol surface, transports, robustness under faults and load."""
