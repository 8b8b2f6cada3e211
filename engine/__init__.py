"""Model side: backends, prompts, parsing and coordinate mapping.

Imports neither ``tools`` nor ``mcp_server``; it knows nothing about MCP or the desktop.
"""
