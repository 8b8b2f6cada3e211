"""The desktop itself: capture, input drivers, key names, windows, and whether the screen has settled."""
