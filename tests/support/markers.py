"""Skip markers for tests that need a program this machine may not have."""

from __future__ import annotations

import shutil

import pytest

needs_display = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xauth") is None, reason="Xvfb/xauth not installed (scripts/setup dev)"
)
"""Skips a test when Xvfb or xauth is missing (``scripts/setup dev`` installs both)."""
