"""End to end: the real server process driving real applications, and self-checks of the harness itself."""
