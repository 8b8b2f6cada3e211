"""``python -m mcp_server`` is the ``vlm-desktop-mcp`` command."""

from mcp_server.cli import main

raise SystemExit(main())
