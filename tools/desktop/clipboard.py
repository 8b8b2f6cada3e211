"""The clipboard on X11, as UTF-8 text, through Debian's ``xclip``.

Why ``xclip`` rather than a Python library: on X11 the clipboard is not stored anywhere, the
program that copied must answer every paste. ``xclip -i`` forks a small process that owns the
selection and answers (large texts included, with the INCR protocol) until another program copies,
so the text stays pasteable after a tool call, and after this server stops. Owning the selection
from python-xlib would need a serving thread in this process and lose the text when it exits;
pyperclip only shells out to ``xclip``/``xsel`` itself, with no timeouts and vague errors.

Synchronous; callers run these functions in worker threads. Nothing here writes to stdout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from tools.errors import DesktopUnavailable

TIMEOUT = 5.0
"""Seconds an ``xclip`` call may take (a frozen clipboard owner cannot hang a tool call)."""
OWN_TIMEOUT = 2.0
"""Seconds xclip's serving process gets to take the clipboard over."""
_EMPTY = ("not available", "no selection")


def _xclip() -> str:
    path = shutil.which("xclip")
    if path is None:
        raise DesktopUnavailable("the clipboard needs xclip, which is not installed (apt-get install xclip)")
    if not os.environ.get("DISPLAY"):
        raise DesktopUnavailable("no X display: DISPLAY is not set, so the clipboard cannot be reached")
    return path


def read_text() -> str:
    """The clipboard's text (``""`` when it holds none, or nothing that is text)."""
    try:
        done = subprocess.run(
            [_xclip(), "-selection", "clipboard", "-o", "-t", "UTF8_STRING"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise DesktopUnavailable(f"the program that owns the clipboard did not answer within {TIMEOUT:g} s") from exc
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        if any(word in error for word in _EMPTY):
            return ""
        raise DesktopUnavailable(f"reading the clipboard failed: xclip: {error or f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace")


def write_text(text: str) -> None:
    """Put ``text`` on the clipboard, returning once it is there (a paste now gets it); a small ``xclip``
    process keeps serving it after this returns."""
    # xclip's serving child inherits stdout/stderr: a pipe there would keep this call waiting until
    # someone else copies. Errors go to a file instead.
    with tempfile.TemporaryFile() as errors:
        try:
            done = subprocess.run(
                [_xclip(), "-selection", "clipboard", "-i", "-t", "UTF8_STRING"],
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=TIMEOUT,
                start_new_session=True,  # the server's signals (Ctrl+C on stdio) do not reach it
            )
        except subprocess.TimeoutExpired as exc:
            raise DesktopUnavailable(f"xclip did not take the text within {TIMEOUT:g} s") from exc
        if done.returncode != 0:
            errors.seek(0)
            error = errors.read().decode("utf-8", "replace").strip()
            raise DesktopUnavailable(f"writing the clipboard failed: xclip: {error or f'exit {done.returncode}'}")
    # xclip returns once its serving child is forked, and that child takes the selection a moment later:
    # until then a paste would get the previous text.
    deadline = time.monotonic() + OWN_TIMEOUT
    while read_text() != text:
        if time.monotonic() >= deadline:
            raise DesktopUnavailable(f"xclip did not take over the clipboard within {OWN_TIMEOUT:g} s")
        time.sleep(0.02)
