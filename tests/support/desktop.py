"""A real desktop for the "real applications" bench: Xvfb + openbox + a session bus, and launchers.

* :class:`Desktop` starts a private Xvfb screen (with a real MIT cookie, see
  :mod:`tests.support.xvfb`), a D-Bus session bus and the ``openbox`` window manager, with a
  private ``HOME`` / ``XDG_*`` tree, and gives the environment for programs on it (:meth:`Desktop.env`).
* :class:`Chromium` runs Debian's ``chromium`` on it: a real, maximised window (not headless),
  English UI (``--lang=en-US``, ``LANG=C.UTF-8``), a throw-away profile, its output in a log file.
* :class:`Mousepad` runs Debian's ``mousepad`` (GTK 3) on it.
* :func:`screenshot` saves a PNG of the screen.

Everything is a context manager and cleans up after itself (process groups and their
descendants are killed, temporary folders removed); every wait is bounded. Use
:func:`skip_reason` to skip a test with the apt package that is missing::

    reason = skip_reason("chromium")
    if reason:
        pytest.skip(reason)
    with Desktop(1366, 768) as desktop, ShopServer(variant) as shop:
        with Chromium(desktop, shop.url + "/products", ready=lambda: shop.requested("/products")):
            screenshot(desktop, "/tmp/shots/products.png", settle=2.0)
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType

from tests.support.xvfb import Xvfb

#: Program (or file) -> the Debian package that provides it.
PACKAGES: dict[str, str] = {
    "Xvfb": "xvfb",
    "xauth": "xauth",
    "xdpyinfo": "x11-utils",
    "xprop": "x11-utils",
    "xdotool": "xdotool",
    "openbox": "openbox",
    "dbus-daemon": "dbus",
    "chromium": "chromium",
    "mousepad": "mousepad",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc": "fonts-wqy-zenhei",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf": "fonts-dejavu-core",
}

#: What each part needs, by the keys of :data:`PACKAGES`.
NEEDS: dict[str, tuple[str, ...]] = {
    "desktop": ("Xvfb", "xauth", "xdpyinfo", "xprop", "xdotool", "openbox", "dbus-daemon"),
    "chromium": (
        "chromium",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ),
    "mousepad": ("mousepad",),
}

#: Flags for every Chromium: no sandbox (we run as root), no GPU, no first-run UI, no network
#: chatter, no translate bar; ``--test-type`` hides the "--no-sandbox" warning bar.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--no-sandbox",
    "--test-type",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--password-store=basic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-notifications",
    "--disable-search-engine-choice-screen",
    "--disable-session-crashed-bubble",
    "--hide-crash-restore-bubble",
    "--deny-permission-prompts",
    "--noerrdialogs",
    "--no-pings",
    "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,"
    "DialMediaRouteProvider,GlobalMediaControls,PrivacySandboxSettings4",
    "--lang=en-US",
    "--accept-lang=en-US,en",
)

START_TIMEOUT = 30.0
DEFAULT_BACKGROUND = "#3b4252"


class DesktopError(RuntimeError):
    """A program is missing, or did not start (or show its window) in time."""


def missing_packages(*parts: str) -> list[str]:
    """The apt packages missing for ``parts`` (``"desktop"``, ``"chromium"``, ``"mousepad"``)."""
    missing: list[str] = []
    for part in parts or ("desktop",):
        for need in NEEDS[part]:
            present = Path(need).exists() if need.startswith("/") else shutil.which(need) is not None
            if not present and PACKAGES[need] not in missing:
                missing.append(PACKAGES[need])
    return missing


def skip_reason(*parts: str) -> str | None:
    """``None`` when ``parts`` can run; else a reason naming the apt packages to install.

    ``"desktop"`` is always checked too: ``skip_reason("chromium")`` covers Xvfb and openbox.
    """
    wanted = ["desktop", *(p for p in parts if p != "desktop")]
    missing = missing_packages(*wanted)
    if not missing:
        return None
    return f"needs apt packages: {' '.join(missing)} (apt-get install -y {' '.join(missing)})"


# -- processes -------------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the command (which may hold spaces and parentheses): state, ppid, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren...), from ``/proc``."""
    children = _children_map()
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2 :].split()[0] != "Z"


def kill_tree(proc: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    """SIGTERM ``proc``'s process group and every descendant, wait, then SIGKILL what is left.

    ``proc`` must have been started with ``start_new_session=True`` (its own process group).
    Safe on a process that already exited.
    """
    if proc is None:
        return
    pids = [proc.pid, *descendants(proc.pid)] if proc.poll() is None else descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        if not any(_alive(p) for p in pids if p != proc.pid) and proc.returncode is not None:
            break
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _signal_all([p for p in pids if _alive(p)], signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL ends it; never hang a test run here
        proc.wait(timeout=timeout)


def _log_tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


# -- the desktop -----------------------------------------------------------------------------------


class Desktop:
    """Xvfb ``width`` x ``height`` + a D-Bus session bus + openbox, with a private home folder.

    :meth:`env` is the environment for programs on this desktop. With ``accessibility=False``
    (the default) it sets ``NO_AT_BRIDGE=1`` so GTK apps do not look for the AT-SPI bus.
    """

    def __init__(
        self,
        width: int = 1366,
        height: int = 768,
        *,
        accessibility: bool = False,
        background: str | None = DEFAULT_BACKGROUND,
    ) -> None:
        self.width = width
        self.height = height
        self.accessibility = accessibility
        self.background = background
        self.xvfb: Xvfb | None = None
        self.tmpdir: Path | None = None
        self.bus_address: str | None = None
        self._dbus: subprocess.Popen[bytes] | None = None
        self._openbox: subprocess.Popen[bytes] | None = None

    # paths ---------------------------------------------------------------------------------

    def _dir(self, *parts: str) -> Path:
        if self.tmpdir is None:
            raise DesktopError("Desktop is not running")
        return self.tmpdir.joinpath(*parts)

    @property
    def home(self) -> Path:
        """The private ``HOME`` (with ``Documents`` and ``Desktop`` folders)."""
        return self._dir("home")

    @property
    def config_home(self) -> Path:
        """``XDG_CONFIG_HOME`` (GSettings go to ``glib-2.0/settings/keyfile`` under it)."""
        return self._dir("home", ".config")

    @property
    def display(self) -> str:
        """The X display, e.g. ``":90"``."""
        if self.xvfb is None:
            raise DesktopError("Desktop is not running")
        return self.xvfb.display

    def log_path(self, name: str) -> Path:
        """Where a program's output goes: ``<tmpdir>/logs/<name>.log``."""
        return self._dir("logs", f"{name}.log")

    def x_env(self) -> dict[str, str]:
        """``os.environ`` with only ``DISPLAY`` and ``XAUTHORITY`` (and the session bus) pointed here.

        For a program under test that should keep its own ``HOME`` and caches (the MCP server).
        """
        if self.xvfb is None or self.bus_address is None:
            raise DesktopError("Desktop is not running")
        env = self.xvfb.env()
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        return env

    def env(self) -> dict[str, str]:
        """``os.environ`` pointed at this desktop, for the applications on it.

        ``DISPLAY``, ``XAUTHORITY``, ``DBUS_SESSION_BUS_ADDRESS``, the private ``HOME`` and
        ``XDG_CONFIG_HOME`` / ``XDG_DATA_HOME`` / ``XDG_STATE_HOME`` / ``XDG_RUNTIME_DIR`` under it
        (``XDG_CACHE_HOME`` is kept when set, so font and model caches are shared), the English
        UTF-8 locale ``C.UTF-8``, ``GDK_BACKEND=x11``, ``GSETTINGS_BACKEND=keyfile`` and, unless
        ``accessibility``, ``NO_AT_BRIDGE=1``.
        """
        env = self.x_env()
        for key in ("WAYLAND_DISPLAY", "LANGUAGE", "SESSION_MANAGER", "XDG_SESSION_TYPE", "GTK_MODULES"):
            env.pop(key, None)
        home = self.home
        env.setdefault("XDG_CACHE_HOME", str(home / ".cache"))
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            XDG_RUNTIME_DIR=str(self._dir("runtime")),
            LANG="C.UTF-8",
            LC_ALL="C.UTF-8",
            GDK_BACKEND="x11",
            GSETTINGS_BACKEND="keyfile",
        )
        if self.accessibility:
            env.pop("NO_AT_BRIDGE", None)
        else:
            env["NO_AT_BRIDGE"] = "1"
        return env

    # lifecycle ------------------------------------------------------------------------------

    def start(self) -> Desktop:
        """Start Xvfb, the session bus and openbox (bounded waits); :class:`DesktopError` on failure."""
        if self.xvfb is not None:
            return self
        reason = skip_reason("desktop")
        if reason:
            raise DesktopError(reason)
        self.tmpdir = Path(tempfile.mkdtemp(prefix="desktop-"))
        try:
            for sub in ("home/Documents", "home/Desktop", "home/.config", "home/.local/share", "home/.cache", "logs"):
                self._dir(*sub.split("/")).mkdir(parents=True, exist_ok=True)
            self._dir("runtime").mkdir(mode=0o700)
            self.xvfb = Xvfb(self.width, self.height).start()
            self._start_dbus()
            self._start_openbox()
            if self.background and shutil.which("xsetroot"):
                self.run(["xsetroot", "-solid", self.background], check=False)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_dbus(self) -> None:
        assert self.xvfb is not None
        env = self.xvfb.env()
        env["XDG_RUNTIME_DIR"] = str(self._dir("runtime"))
        self._dbus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log_path("dbus").open("wb"),
            env=env,
            cwd=self.home,
            start_new_session=True,
        )
        assert self._dbus.stdout is not None
        ready, _, _ = select.select([self._dbus.stdout], [], [], 10.0)
        line = self._dbus.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("unix:"):
            raise DesktopError(f"dbus-daemon gave no bus address in 10 s: {_log_tail(self.log_path('dbus'))}")
        self.bus_address = line

    def _start_openbox(self) -> None:
        """Start openbox and wait until it owns the screen (``_NET_SUPPORTING_WM_CHECK``).

        Xvfb resets when its last client disconnects (the readiness probe), and a client that
        connects during the reset is refused: openbox then exits at once with "Failed to open
        the display", so that case is retried (3 tries).
        """
        env = self.env()
        for attempt in range(3):
            with self.log_path("openbox").open("wb") as log:
                self._openbox = subprocess.Popen(
                    ["openbox", "--sm-disable"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.home,
                    start_new_session=True,
                )
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                if self._openbox.poll() is not None:
                    break
                if self.window_manager() == "Openbox":
                    return
                time.sleep(0.05)
            else:
                raise DesktopError(
                    f"openbox did not take over the screen in 10 s: {_log_tail(self.log_path('openbox'))}"
                )
            log_text = _log_tail(self.log_path("openbox"))
            if "Failed to open the display" not in log_text or attempt == 2:
                raise DesktopError(f"openbox exited with {self._openbox.returncode}: {log_text}")
            time.sleep(0.2)

    def window_manager(self) -> str | None:
        """The running window manager's name (``_NET_SUPPORTING_WM_CHECK`` -> ``_NET_WM_NAME``), if any."""
        root = self.run(["xprop", "-root", "-notype", "_NET_SUPPORTING_WM_CHECK"], check=False).stdout
        if "window id #" not in root:
            return None
        wid = root.rsplit("#", 1)[1].strip().split()[0]
        name = self.run(["xprop", "-id", wid, "-notype", "_NET_WM_NAME"], check=False).stdout
        return name.split("=", 1)[1].strip().strip('"') if "=" in name else None

    def stop(self) -> None:
        """Stop openbox, the bus and Xvfb, and remove the private folders. Safe to call twice."""
        kill_tree(self._openbox)
        self._openbox = None
        kill_tree(self._dbus)
        if self._dbus is not None and self._dbus.stdout is not None:
            self._dbus.stdout.close()
        self._dbus = None
        self.bus_address = None
        if self.xvfb is not None:
            self.xvfb.stop()
            self.xvfb = None
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> Desktop:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.xvfb.display if self.xvfb is not None else "stopped"
        return f"Desktop({where}, {self.width}x{self.height})"

    # running things and looking at windows ------------------------------------------------------

    def run(
        self, args: Sequence[str], *, timeout: float = 10.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command (``xdotool``, ``xprop``...) on this desktop and return its output."""
        result = subprocess.run(list(args), env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise DesktopError(f"{' '.join(args)} exited with {result.returncode}: {result.stderr.strip()}")
        return result

    def xdotool(self, *args: str, timeout: float = 10.0) -> str:
        """Run ``xdotool ARGS`` on this desktop; its stdout (stripped). E.g. ``xdotool("key", "ctrl+s")``."""
        result = self.run(["xdotool", *args], timeout=timeout, check=False)
        if result.returncode != 0 and result.stderr.strip():
            raise DesktopError(f"xdotool {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def windows(self, *, name: str | None = None, cls: str | None = None, pid: int | None = None) -> list[int]:
        """Visible windows matching all given: a title regex, a WM_CLASS regex, a ``_NET_WM_PID``."""
        args = ["search", "--all", "--onlyvisible"]
        if pid is not None:
            args += ["--pid", str(pid)]
        if cls is not None:
            args += ["--class", cls]
        if name is not None:
            args += ["--name", name]
        if pid is None and cls is None and name is None:
            args += ["--name", "."]
        result = self.run(["xdotool", *args], check=False)
        return [int(w) for w in result.stdout.split()]

    def wait_for_window(
        self,
        *,
        name: str | None = None,
        cls: str | None = None,
        pid: int | None = None,
        timeout: float = 15.0,
        exclude: Iterable[int] = (),
        proc: subprocess.Popen[bytes] | None = None,
    ) -> int:
        """Wait (bounded) for a visible window matching ``name``/``cls``/``pid`` not in ``exclude``.

        With ``proc``, fail early if that process exits.
        """
        skip = set(exclude)
        deadline = time.monotonic() + timeout
        while True:
            found = [w for w in self.windows(name=name, cls=cls, pid=pid) if w not in skip]
            if found:
                return found[-1]
            if proc is not None and proc.poll() is not None:
                raise DesktopError(f"the program exited with {proc.returncode} before its window appeared")
            if time.monotonic() > deadline:
                raise DesktopError(f"no window (name={name!r}, class={cls!r}, pid={pid}) within {timeout:.0f} s")
            time.sleep(0.1)

    def window_name(self, wid: int) -> str:
        """A window's title."""
        return self.xdotool("getwindowname", str(wid))

    def active_window(self) -> int | None:
        """The focused window's id, if any."""
        out = self.run(["xdotool", "getactivewindow"], check=False).stdout.strip()
        return int(out) if out.isdigit() else None

    def wait_for_active(self, wid: int, timeout: float = 10.0) -> None:
        """Wait (bounded) until window ``wid`` has the keyboard focus."""
        deadline = time.monotonic() + timeout
        while self.active_window() != wid:
            if time.monotonic() > deadline:
                raise DesktopError(f"window {wid} did not get the focus within {timeout:.0f} s")
            time.sleep(0.05)

    def window_geometry(self, wid: int) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of a window on the screen."""
        values: dict[str, int] = {}
        for line in self.xdotool("getwindowgeometry", "--shell", str(wid)).splitlines():
            key, _, value = line.partition("=")
            if value.lstrip("-").isdigit():
                values[key] = int(value)
        return values["X"], values["Y"], values["WIDTH"], values["HEIGHT"]

    def screenshot(self, path: str | Path, *, settle: float = 0.0) -> Path:
        """Save the screen as PNG (see :func:`screenshot`)."""
        return screenshot(self, path, settle=settle)


# -- screenshots -----------------------------------------------------------------------------------

_SHOT_SCRIPT = r"""
import sys, time, hashlib, mss, mss.tools
path, settle = sys.argv[1], float(sys.argv[2])
make = getattr(mss, "MSS", None) or mss.mss
with make() as sct:
    mon = sct.monitors[0]
    img = sct.grab(mon)
    last, deadline = hashlib.sha1(img.rgb).digest(), time.monotonic() + settle
    stable = settle <= 0
    while not stable and time.monotonic() < deadline:
        time.sleep(0.25)
        img = sct.grab(mon)
        digest = hashlib.sha1(img.rgb).digest()
        stable, last = digest == last, digest
    mss.tools.to_png(img.rgb, img.size, output=path)
print("stable" if stable else "changing")
"""


def screenshot(desktop: Desktop, path: str | Path, *, settle: float = 0.0) -> Path:
    """Save a PNG of ``desktop``'s whole screen to ``path`` (parent folders are created).

    With ``settle`` > 0, first wait up to that many seconds for two identical frames 0.25 s apart
    (the page finished drawing). Runs ``mss`` in a subprocess so this process's environment is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", _SHOT_SCRIPT, str(target), str(settle)],
        env=desktop.env(),
        capture_output=True,
        text=True,
        timeout=30 + settle,
    )
    if result.returncode != 0:
        raise DesktopError(f"screenshot failed: {result.stderr.strip()[-1500:]}")
    return target


# -- applications ----------------------------------------------------------------------------------


class _App:
    """A GUI program on a :class:`Desktop`, in its own process group, output to a log file."""

    log_name = "app"

    def __init__(self, desktop: Desktop, timeout: float) -> None:
        self.desktop = desktop
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.window_id: int | None = None
        self.log_path = desktop.log_path(f"{self.log_name}-{id(self):x}")

    @property
    def pid(self) -> int | None:
        """The program's process id (``None`` when not running)."""
        return self.proc.pid if self.proc is not None else None

    def _launch(self, args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.desktop.home,
                start_new_session=True,
            )
        return self.proc

    def _wait_window(self, proc: subprocess.Popen[bytes]) -> int:
        try:
            self.window_id = self.desktop.wait_for_window(pid=proc.pid, timeout=self.timeout, proc=proc)
        except DesktopError as exc:
            raise DesktopError(f"{exc}; {self.log_name} log:\n{_log_tail(self.log_path)}") from None
        return self.window_id

    def title(self) -> str:
        """The main window's title."""
        if self.window_id is None:
            raise DesktopError(f"{self.log_name} has no window")
        return self.desktop.window_name(self.window_id)

    def wait_for_title(self, text: str, timeout: float = 15.0) -> str:
        """Wait (bounded) until the main window's title contains ``text``; return the title."""
        deadline = time.monotonic() + timeout
        title = ""
        while time.monotonic() < deadline:
            title = self.title()
            if text in title:
                return title
            time.sleep(0.1)
        raise DesktopError(f"window title is {title!r}, not containing {text!r}, after {timeout:.0f} s")

    def activate(self) -> None:
        """Raise and focus the main window."""
        if self.window_id is not None:
            self.desktop.xdotool("windowactivate", "--sync", str(self.window_id))

    def stop(self) -> None:
        """Kill the program (its process group and descendants). Safe to call twice."""
        kill_tree(self.proc)
        self.proc = None
        self.window_id = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Chromium(_App):
    """Debian's Chromium showing ``url`` in a real, maximised window on ``desktop``.

    :meth:`start` waits (bounded by ``timeout``) for the window, then for ``ready()`` (e.g.
    ``lambda: shop.requested("/products")``) and for ``title`` in the window title, if given.
    The UI is always English (``--lang=en-US``), so a file input reads "Choose File" /
    "No file chosen". The profile is a fresh temporary folder, removed by :meth:`stop`.
    """

    log_name = "chromium"

    def __init__(
        self,
        desktop: Desktop,
        url: str,
        *,
        ready: Callable[[], bool] | None = None,
        title: str | None = None,
        timeout: float = START_TIMEOUT,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(desktop, timeout)
        self.url = url
        self.ready = ready
        self.wait_title = title
        self.extra_args = tuple(extra_args)
        self.user_data_dir: Path | None = None

    def command(self) -> list[str]:
        """The full command line."""
        args = ["chromium", *CHROMIUM_FLAGS]
        if self.desktop.accessibility:
            args.append("--force-renderer-accessibility")
        args += [
            f"--user-data-dir={self.user_data_dir}",
            "--window-position=0,0",
            f"--window-size={self.desktop.width},{self.desktop.height}",
            "--start-maximized",
            *self.extra_args,
            self.url,
        ]
        return args

    def start(self) -> Chromium:
        """Launch and wait for the window (and ``ready`` / ``title``); :class:`DesktopError` on failure."""
        if self.proc is not None:
            return self
        reason = skip_reason("chromium")
        if reason:
            raise DesktopError(reason)
        self.user_data_dir = Path(tempfile.mkdtemp(prefix="chromium-", dir=self.desktop.tmpdir))
        try:
            proc = self._launch(self.command(), self.desktop.env())
            self._wait_window(proc)
            deadline = time.monotonic() + self.timeout
            if self.ready is not None:
                while not self.ready():
                    if time.monotonic() > deadline:
                        raise DesktopError(f"Chromium did not load {self.url} in {self.timeout:.0f} s")
                    time.sleep(0.05)
            if self.wait_title is not None:
                self.wait_for_title(self.wait_title, max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def navigate(self, url: str, *, ready: Callable[[], bool] | None = None, timeout: float = 15.0) -> None:
        """Type ``url`` into the address bar (ctrl+L, type, Enter) and wait for ``ready()`` if given."""
        self.activate()
        self.desktop.xdotool("key", "--clearmodifiers", "ctrl+l")
        time.sleep(0.2)
        self.desktop.xdotool("type", "--delay", "5", url)
        self.desktop.xdotool("key", "Return")
        deadline = time.monotonic() + timeout
        while ready is not None and not ready():
            if time.monotonic() > deadline:
                raise DesktopError(f"Chromium did not load {url} in {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Kill Chromium and remove its profile folder."""
        super().stop()
        if self.user_data_dir is not None:
            shutil.rmtree(self.user_data_dir, ignore_errors=True)
            self.user_data_dir = None

    def __enter__(self) -> Chromium:
        return self.start()


class Mousepad(_App):
    """Debian's Mousepad text editor on ``desktop``, optionally opening ``path``.

    It runs with ``--disable-server`` (each :class:`Mousepad` is its own process, so it can be
    stopped alone), ``session-restore='never'`` in a private GSettings keyfile, and no other
    first-run UI. As root it shows a red "you are using the root account" bar under the menu.
    """

    log_name = "mousepad"

    def __init__(
        self,
        desktop: Desktop,
        path: str | Path | None = None,
        *,
        timeout: float = START_TIMEOUT,
        size: tuple[int, int] | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(desktop, timeout)
        self.path = Path(path) if path is not None else None
        self.size = size
        self.maximize = maximize

    def _write_settings(self) -> None:
        """Mousepad's settings, in the GSettings keyfile (``GSETTINGS_BACKEND=keyfile``)."""
        keyfile = self.desktop.config_home / "glib-2.0" / "settings" / "keyfile"
        keyfile.parent.mkdir(parents=True, exist_ok=True)
        window = [f"maximized={'true' if self.maximize else 'false'}"]
        if self.size is not None:
            window += [f"width={self.size[0]}", f"height={self.size[1]}"]
        keyfile.write_text(
            "[org/xfce/mousepad/preferences/file]\nsession-restore='never'\n\n"
            "[org/xfce/mousepad/state/window]\n" + "\n".join(window) + "\n"
        )

    def start(self) -> Mousepad:
        """Launch and wait for the window; :class:`DesktopError` on failure."""
        if self.proc is not None:
            return self
        reason = skip_reason("mousepad")
        if reason:
            raise DesktopError(reason)
        self._write_settings()
        args = ["mousepad", "--disable-server"]
        if self.path is not None:
            args.append(str(self.path))
        try:
            self._wait_window(self._launch(args, self.desktop.env()))
        except BaseException:
            self.stop()
            raise
        return self

    def __enter__(self) -> Mousepad:
        return self.start()
