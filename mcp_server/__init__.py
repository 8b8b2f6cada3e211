"""The MCP side: configuration, the server, transports and the command line.

The only package that imports ``mcp``.
"""

__version__ = "0.1.0"
