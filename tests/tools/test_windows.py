"""Windows, the clipboard and launching, against a real X desktop (Xvfb + openbox) and real programs."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.desktop import Desktop, skip_reason
from tests.support.tkapp import TkApp
from tools.desktop import clipboard, ewmh, launcher
from tools.errors import InvalidAction

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def _until(predicate, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Desktop, TkApp, TkApp]]:
    """Two Tk windows under openbox: "First form" and "Second form"."""
    folder = tmp_path_factory.mktemp("windows")
    with Desktop(1024, 700) as desktop:
        env = desktop.env()
        with (
            TkApp(folder / "a.json", env=env, geometry="400x300+40+60", title="First form") as first,
            TkApp(folder / "b.json", env=env, geometry="420x320+500+200", title="Second form") as second,
            pytest.MonkeyPatch.context() as patch,
        ):
            for key, value in desktop.x_env().items():
                if key in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
                    patch.setenv(key, value)
            yield desktop, first, second


def _by_title(title: str) -> ewmh.WindowInfo:
    found = [w for w in ewmh.list_windows() if w.title == title]
    assert len(found) == 1, [w.title for w in ewmh.list_windows()]
    return found[0]


def test_list_windows_reports_title_app_pid_and_the_box_x_reports(desk: tuple[Desktop, TkApp, TkApp]) -> None:
    _, first, _ = desk
    window = _by_title("First form")
    assert window.pid is None, "Tk sets no _NET_WM_PID, and none is made up"
    assert window.app, "WM_CLASS is read"
    own = first.state()["window"]  # the application's own idea of where it is (Tk's winfo_root*)
    x, y, width, height = own["x"], own["y"], own["width"], own["height"]
    assert window.box == (x, y, x + width, y + height)
    assert (width, height) == (400, 300)
    assert not window.minimized
    assert window.kind == "normal"


def test_the_focused_flag_follows_the_window_manager(desk: tuple[Desktop, TkApp, TkApp]) -> None:
    desktop, _, _ = desk
    for title in ("First form", "Second form"):
        target = _by_title(title)
        ewmh.activate(target.id)
        assert _until(lambda t=target: desktop.active_window() == t.id), f"{title} did not get the focus"
        active = ewmh.active_window()
        assert active is not None and active.id == target.id
        assert [w.title for w in ewmh.list_windows() if w.focused] == [title]


def test_move_resize_places_the_client_area_where_asked(desk: tuple[Desktop, TkApp, TkApp]) -> None:
    _, _, second = desk
    window = _by_title("Second form")
    ewmh.move_resize(window.id, 300, 250, 500, 350)
    moved = _until(lambda: (info := ewmh.window_info(window.id)) is not None and info.box == (300, 250, 800, 600))
    assert moved, ewmh.window_info(window.id)
    own = second.wait_for(lambda s: s["window"]["width"] == 500)["window"]
    assert (own["x"], own["y"], own["width"], own["height"]) == (300, 250, 500, 350)


def test_close_removes_the_window(desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path) -> None:
    desktop, _, _ = desk
    with TkApp(tmp_path / "c.json", env=desktop.env(), geometry="300x200+100+100", title="Third form") as third:
        window = _by_title("Third form")
        ewmh.close(window.id)
        assert _until(
            lambda: ewmh.window_info(window.id) is None or "Third form" not in [w.title for w in ewmh.list_windows()]
        )
        assert _until(lambda: third._proc is not None and third._proc.poll() is not None), "Tk did not exit on close"


def test_a_gone_window_reads_as_none(desk: tuple[Desktop, TkApp, TkApp]) -> None:
    assert ewmh.window_info(0x7FFFFF0) is None


@pytest.mark.skipif(shutil.which("xclip") is None, reason="needs apt package xclip")
def test_clipboard_round_trips_any_unicode(desk: tuple[Desktop, TkApp, TkApp]) -> None:
    text = "Zoë Ñúñez 你好 😀\nsecond line\twith a tab"
    clipboard.write_text(text)
    assert clipboard.read_text() == text
    clipboard.write_text("")
    assert clipboard.read_text() == ""


def test_launcher_resolves_a_desktop_file_and_strips_field_codes(tmp_path: Path) -> None:
    apps = tmp_path / "applications"
    apps.mkdir()
    (apps / "org.example.Editor.desktop").write_text(
        "[Desktop Entry]\nName=Editor\nExec=python3 -c 'print(1)' %U\n\n[Desktop Action new]\nExec=nothing\n"
    )
    launch = launcher.resolve("org.example.Editor", [apps])
    assert launch.argv == ("python3", "-c", "print(1)")
    assert launch.desktop_file == str(apps / "org.example.Editor.desktop")
    assert launcher.resolve("org.example.Editor.desktop", [apps]).argv == launch.argv
    assert launcher.resolve("python3 -V", [apps]).argv == ("python3", "-V")
    with pytest.raises(InvalidAction, match="not installed"):
        launcher.resolve("no-such-program-here --flag", [apps])


def test_launched_program_runs_detached_and_its_window_maps(desk: tuple[Desktop, TkApp, TkApp], tmp_path: Path) -> None:
    import os
    import sys

    root = Path(__file__).resolve().parents[2]
    state = tmp_path / "launched.json"
    command = f"{sys.executable} -m tests.support.tkapp --state {state} --geometry 300x200+50+400 --title Launched"
    launch = launcher.resolve(command)
    before = {w.id for w in ewmh.list_windows()}
    with pytest.MonkeyPatch.context() as patch:  # the Tk app runs as a module of this repository, from its root
        patch.setenv("PYTHONPATH", str(root))
        patch.setenv("HOME", str(root))
        pid = launcher.start(launch)
    try:
        new = _until(lambda: [w for w in ewmh.list_windows() if w.id not in before], 20.0)
        assert new and new[0].title == "Launched"
        assert os.getsid(pid) == pid, "the program has its own session"
    finally:
        os.kill(pid, 15)
    assert _until(lambda: launcher.exit_code(pid) is not None), "the reaper thread did not collect the exit status"
