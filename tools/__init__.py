"""The desktop tools: capture, actions, and the handlers behind describe/plan/execute.

Imports ``engine`` but never ``mcp``: the protocol lives in ``mcp_server`` alone.
"""
