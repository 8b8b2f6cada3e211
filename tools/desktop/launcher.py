"""Starting an application the operator allowed, detached from this server.

An allowed entry is a desktop-file id (``org.xfce.mousepad``, with or without ``.desktop``, looked
up in ``$XDG_DATA_HOME`` and ``$XDG_DATA_DIRS`` under ``applications/``) or a command line
(``mousepad --disable-server``). The caller names an entry exactly; nothing it says becomes an
argument. A desktop file's ``Exec`` line loses its field codes (``%f``, ``%U``...), which stand for
files and URLs that are not given here.

The program runs in its own session (signals sent to the server's process group do not reach it),
with no standard input or output of ours, in the home folder. A thread reaps it when it exits, so
no zombie is left while the server runs; after the server stops it simply lives on.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.errors import DesktopUnavailable, InvalidAction

_EXITED: dict[int, int] = {}
"""Exit statuses of the programs started here, by process id, filled in by their reaper threads."""
_FIELD_CODES = ("%f", "%F", "%u", "%U", "%i", "%c", "%k", "%d", "%D", "%n", "%N", "%v", "%m")


@dataclass(frozen=True)
class Launch:
    """What an allowed entry runs: its argv and where it came from (a desktop file, or the entry itself)."""

    entry: str
    argv: tuple[str, ...]
    desktop_file: str | None = None


def application_dirs(env: dict[str, str] | None = None) -> list[Path]:
    """Where desktop files live, most specific first (XDG base directory rules)."""
    env = dict(os.environ) if env is None else env
    home = env.get("XDG_DATA_HOME") or os.path.join(env.get("HOME", "~"), ".local", "share")
    dirs = [home, *(env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")]
    return [Path(d).expanduser() / "applications" for d in dirs if d]


def _desktop_file(entry: str, dirs: Sequence[Path]) -> Path | None:
    name = entry if entry.endswith(".desktop") else f"{entry}.desktop"
    if "/" in name or " " in name:
        return None
    for folder in dirs:
        path = folder / name
        if path.is_file():
            return path
    return None


def _exec_line(path: Path) -> str:
    in_entry = False
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_entry = line == "[Desktop Entry]"
        elif in_entry and line.startswith("Exec="):
            return line[len("Exec=") :]
    raise InvalidAction(f"{path} has no Exec line in its [Desktop Entry] group; it cannot be launched")


def _argv_of(command: str) -> tuple[str, ...]:
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise InvalidAction(f"cannot parse the command {command!r}: {exc}") from exc
    words = [w for w in words if w not in _FIELD_CODES]
    return tuple(w.replace("%%", "%") for w in words)


def resolve(entry: str, dirs: Sequence[Path] | None = None) -> Launch:
    """The argv an allowed entry runs; :class:`InvalidAction` when its program cannot be found."""
    desktop = _desktop_file(entry, application_dirs() if dirs is None else dirs)
    argv = _argv_of(_exec_line(desktop) if desktop is not None else entry)
    if not argv:
        raise InvalidAction(f"the launch entry {entry!r} names no program")
    if shutil.which(argv[0]) is None:
        raise InvalidAction(f"the launch entry {entry!r} runs {argv[0]!r}, which is not installed or not on PATH")
    return Launch(entry, argv, None if desktop is None else str(desktop))


def start(launch: Launch) -> int:
    """Start the program detached (own session, no stdio of ours); its process id."""
    try:
        proc = subprocess.Popen(
            list(launch.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            cwd=os.path.expanduser("~"),
        )
    except OSError as exc:
        raise DesktopUnavailable(f"starting {launch.argv[0]!r} failed: {exc}") from exc

    def reap() -> None:
        _EXITED[proc.pid] = proc.wait()

    threading.Thread(target=reap, name=f"reap-{proc.pid}", daemon=True).start()
    return proc.pid


def exit_code(pid: int) -> int | None:
    """The exit status of a program :func:`start` ed, once it has exited and been reaped; else ``None``."""
    return _EXITED.get(pid)
