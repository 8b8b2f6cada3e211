"""A real Tk form for end-to-end tests, and :class:`TkApp` to run it as a subprocess.

Run it as ``python -m tests.support.tkapp --state STATE.json [--geometry 800x600+40+30] [--title T]``.
It needs no window manager. It writes its widgets' real screen geometry, their values and the
input events it received to STATE.json (atomically, on every change and every 100 ms), so a test
can check what actually arrived at the application.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from tests.support.processes import stop_process

ROOT = Path(__file__).resolve().parents[2]
FONT = ("DejaVu Sans", 14)
WRITE_INTERVAL_MS = 100


class FormApp:
    """The Tk form: name, email, subscribe, notes, Submit, Cancel and a status line.

    With ``upload``, also an "Attach file" button that opens Tk's own file dialog (a real native
    dialog on X11) and records the chosen path as ``events["uploaded"]``.
    """

    def __init__(self, root: tk.Tk, state_path: Path, upload: bool = False) -> None:
        self.root = root
        self.state_path = state_path
        self.ready = False
        self.events: dict[str, Any] = {
            "submit_clicks": 0,
            "cancel_clicks": 0,
            "left_clicks": 0,
            "ctrl_a": 0,
            "right_clicks": 0,
            "double_clicks": 0,
            "last_click": None,
            "focused": None,
            "uploaded": None,
        }
        self.subscribed = tk.IntVar(master=root, value=0)
        self._last_written = ""
        self._write_pending = False

        form = tk.Frame(root, padx=20, pady=20)
        form.pack(fill="both", expand=True)
        self.name_label = tk.Label(form, text="Name:", font=FONT)
        self.name_entry = tk.Entry(form, font=FONT, width=24)
        self.email_label = tk.Label(form, text="Email:", font=FONT)
        self.email_entry = tk.Entry(form, font=FONT, width=24)
        self.subscribe = tk.Checkbutton(form, text="Subscribe", font=FONT, variable=self.subscribed)
        self.notes_label = tk.Label(form, text="Notes:", font=FONT)
        self.notes = tk.Text(form, font=FONT, width=24, height=4, undo=False)
        buttons = tk.Frame(form)
        self.submit = tk.Button(buttons, text="Submit", font=FONT, width=8, command=self._on_submit)
        self.cancel = tk.Button(buttons, text="Cancel", font=FONT, width=8, command=self._on_cancel)
        self.status = tk.Label(form, text="Ready", font=FONT, anchor="w")
        self.attach = tk.Button(buttons, text="Attach file", font=FONT, command=self._on_attach) if upload else None
        self.attached = tk.Label(buttons, text="No file", font=FONT) if upload else None

        self.name_label.grid(row=0, column=0, sticky="w", pady=6)
        self.name_entry.grid(row=0, column=1, sticky="we", pady=6)
        self.email_label.grid(row=1, column=0, sticky="w", pady=6)
        self.email_entry.grid(row=1, column=1, sticky="we", pady=6)
        self.subscribe.grid(row=2, column=1, sticky="w", pady=6)
        self.notes_label.grid(row=3, column=0, sticky="nw", pady=6)
        self.notes.grid(row=3, column=1, sticky="we", pady=6)
        buttons.grid(row=4, column=1, sticky="w", pady=10)
        self.submit.pack(side="left", padx=(0, 16))
        self.cancel.pack(side="left")
        if self.attach is not None and self.attached is not None:
            self.attach.pack(side="left", padx=(16, 0))
            self.attached.pack(side="left", padx=(8, 0))
        self.status.grid(row=5, column=0, columnspan=2, sticky="we", pady=6)
        form.columnconfigure(1, weight=1)

        # id -> (widget, type, label)
        self.widgets: dict[str, tuple[tk.Widget, str, str]] = {
            "name_label": (self.name_label, "label", "Name:"),
            "name_entry": (self.name_entry, "input", "Name"),
            "email_label": (self.email_label, "label", "Email:"),
            "email_entry": (self.email_entry, "input", "Email"),
            "subscribe": (self.subscribe, "checkbox", "Subscribe"),
            "notes_label": (self.notes_label, "label", "Notes:"),
            "notes": (self.notes, "text", "Notes"),
            "submit": (self.submit, "button", "Submit"),
            "cancel": (self.cancel, "button", "Cancel"),
            "status": (self.status, "label", "Ready"),
        }
        if self.attach is not None:
            self.widgets["attach"] = (self.attach, "button", "Attach file")
        self._ids = {str(widget): wid for wid, (widget, _, _) in self.widgets.items()}

        for editable in (self.name_entry, self.email_entry, self.notes):
            editable.bind("<Control-a>", self._on_ctrl_a)
            editable.bind("<Control-A>", self._on_ctrl_a)
        self.notes.bind("<<Modified>>", self._on_text_modified)
        root.bind_all("<Button-1>", self._on_left_click, add="+")
        root.bind_all("<Double-Button-1>", self._on_double_click, add="+")
        root.bind_all("<Button-3>", self._on_right_click, add="+")
        for sequence in ("<KeyRelease>", "<ButtonRelease>", "<FocusIn>", "<FocusOut>"):
            root.bind_all(sequence, self._changed, add="+")
        self.subscribed.trace_add("write", lambda *_: self._changed())

    # --- events -------------------------------------------------------------------------------

    def _on_submit(self) -> None:
        self.events["submit_clicks"] += 1
        self.status.configure(text="Submitted")
        self._changed()

    def _on_cancel(self) -> None:
        self.events["cancel_clicks"] += 1
        self.status.configure(text="Cancelled")
        self._changed()

    def _on_attach(self) -> None:
        from tkinter import filedialog

        chosen = filedialog.askopenfilename(parent=self.root, title="Attach a file", initialdir=str(Path.home()))
        self.events["uploaded"] = chosen or ""
        if self.attached is not None:  # as real apps do: the chosen file's name beside the button
            self.attached.configure(text=Path(chosen).name if chosen else "No file")
        self._changed()

    def _on_ctrl_a(self, event: tk.Event) -> str:
        self.events["ctrl_a"] += 1
        widget = event.widget
        if isinstance(widget, tk.Entry):
            widget.selection_range(0, "end")
            widget.icursor("end")
        elif isinstance(widget, tk.Text):
            widget.tag_add("sel", "1.0", "end-1c")
        self._changed()
        return "break"

    def _on_text_modified(self, _event: tk.Event) -> None:
        self.notes.edit_modified(False)
        self._changed()

    def _on_left_click(self, event: tk.Event) -> None:
        self.events["last_click"] = [int(event.x_root), int(event.y_root)]
        self.events["left_clicks"] += 1
        self._changed()

    def _on_double_click(self, _event: tk.Event) -> None:
        self.events["double_clicks"] += 1
        self._changed()

    def _on_right_click(self, event: tk.Event) -> None:
        self.events["right_clicks"] += 1
        self._changed()

    def _changed(self, _event: tk.Event | None = None) -> None:
        if not self._write_pending:
            self._write_pending = True
            self.root.after_idle(self._flush)

    def _flush(self) -> None:
        self._write_pending = False
        self.write_state()

    # --- state --------------------------------------------------------------------------------

    def _focused(self) -> str | None:
        try:
            widget = self.root.focus_get()
        except (KeyError, tk.TclError):  # focus on a widget Tk cannot name (e.g. a menu)
            return None
        return self._ids.get(str(widget)) if widget is not None else None

    def _value(self, wid: str, widget: tk.Widget) -> Any:
        if isinstance(widget, tk.Entry):
            return widget.get()
        if isinstance(widget, tk.Text):
            return widget.get("1.0", "end-1c")
        if isinstance(widget, tk.Checkbutton):
            return int(self.subscribed.get())
        return str(widget.cget("text"))

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-ready dict (absolute root-window coordinates)."""
        root = self.root
        widgets: dict[str, dict[str, Any]] = {}
        for wid, (widget, kind, label) in self.widgets.items():
            value = self._value(wid, widget)
            widgets[wid] = {
                "type": kind,
                "label": value if kind == "label" else label,
                "x": widget.winfo_rootx(),
                "y": widget.winfo_rooty(),
                "width": widget.winfo_width(),
                "height": widget.winfo_height(),
                "value": value,
            }
        self.events["focused"] = self._focused()
        return {
            "ready": self.ready,
            "pid": os.getpid(),
            "window": {
                "x": root.winfo_rootx(),
                "y": root.winfo_rooty(),
                "width": root.winfo_width(),
                "height": root.winfo_height(),
            },
            "widgets": widgets,
            "events": dict(self.events),
        }

    def write_state(self) -> None:
        """Write the state file atomically (temp file + ``os.replace``) when it changed."""
        text = json.dumps(self.snapshot(), ensure_ascii=False)
        if text == self._last_written:
            return
        tmp = self.state_path.with_name(f".{self.state_path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.state_path)
        self._last_written = text

    def _tick(self) -> None:
        self.write_state()
        self.root.after(WRITE_INTERVAL_MS, self._tick)

    def start(self) -> None:
        """Wait until the window is mapped, take the X input focus, and start the periodic writer."""
        self.root.wait_visibility()
        self.root.update_idletasks()
        self.root.update()
        # No window manager gives the window focus: take it, so typed keys reach the form.
        self.root.focus_force()
        self.root.update()
        self.ready = True
        self.write_state()
        self.root.after(WRITE_INTERVAL_MS, self._tick)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the form until it is closed or receives SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", required=True, type=Path, help="where to write the JSON state")
    parser.add_argument("--geometry", default="800x600+40+30", help="Tk geometry, WxH+X+Y")
    parser.add_argument("--title", default="Test form")
    parser.add_argument("--upload", action="store_true", help="add an Attach file button (Tk's file dialog)")
    args = parser.parse_args(argv)

    root = tk.Tk(className="TestForm")
    root.title(args.title)
    root.geometry(args.geometry)
    app = FormApp(root, args.state, upload=args.upload)

    def on_sigterm(_signum: int, _frame: FrameType | None) -> None:
        root.after(0, root.destroy)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)
    app.start()
    root.mainloop()
    return 0


class TkApp:
    """Runs the form in a subprocess on a given display and reads back its state file."""

    def __init__(
        self,
        state_path: Path | str,
        env: Mapping[str, str] | None = None,
        geometry: str = "800x600+40+30",
        title: str = "Test form",
        start_timeout: float = 15.0,
        upload: bool = False,
    ) -> None:
        self.state_path = Path(state_path)
        self.upload = upload
        self.env = dict(env) if env is not None else dict(os.environ)
        self.geometry = geometry
        self.title = title
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path = self.state_path.with_name(self.state_path.name + ".log")

    @property
    def pid(self) -> int | None:
        """Process id of the running app, or ``None``."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> TkApp:
        """Launch the app and wait (bounded) until it reports ``ready: true``."""
        self.state_path.unlink(missing_ok=True)
        env = {**self.env, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), self.env.get("PYTHONPATH")) if p)}
        command = [sys.executable, "-m", "tests.support.tkapp", "--state", str(self.state_path)]
        command += ["--geometry", self.geometry, "--title", self.title, *(["--upload"] if self.upload else [])]
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RuntimeError(f"the Tk app exited with {code} before it was ready: {self._log()}")
            state = self._read()
            if state is not None and state.get("ready"):
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the Tk app did not report ready within {self.start_timeout:.0f} s: {self._log()}")

    def _log(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-2000:] or "(no output)"
        except OSError:
            return "(no log)"

    def _read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (OSError, ValueError):
            return None

    def state(self) -> dict[str, Any]:
        """The app's latest state (what it last wrote)."""
        state = self._read()
        if state is None:
            raise RuntimeError(f"no readable state at {self.state_path}")
        return state

    def widget(self, wid: str) -> dict[str, Any]:
        """One widget's entry from the state: type, label, x, y, width, height, value."""
        widgets: dict[str, dict[str, Any]] = self.state()["widgets"]
        if wid not in widgets:
            raise KeyError(f"no widget {wid!r}; the app has {sorted(widgets)}")
        return widgets[wid]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """Poll the state until ``predicate(state)`` holds and return that state.

        Raises ``AssertionError`` with the last state seen when it does not hold within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while True:
            state = self._read()
            if state is not None:
                last = state
                try:
                    if predicate(state):
                        return state
                except (KeyError, TypeError, IndexError):
                    pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout} s; last state: {json.dumps(last)}")
            time.sleep(0.03)

    def settle(self) -> dict[str, Any]:
        """Click a blank spot of the window with xdotool (outside the server) and wait until the app saw it.

        X delivers input in order, so anything sent before is in the state returned: no sleeping to
        prove that something did not happen. The marker itself is one more left click.
        """
        state = self.state()
        window = state["window"]
        # Two spots more than Tk's 5-pixel "nearby" apart, so consecutive checks never make a double click.
        first, second = [window["x"] + 4, window["y"] + 6], [window["x"] + 16, window["y"] + 6]
        point = second if state["events"]["last_click"] == first else first
        subprocess.run(["xdotool", "mousemove", str(point[0]), str(point[1]), "click", "1"], env=self.env, check=True)
        return self.wait_for(lambda s: s["events"]["last_click"] == point)

    def stop(self) -> None:
        """Send SIGTERM, wait for a clean exit (kill after 5 s). Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        stop_process(proc, 5)

    def __enter__(self) -> TkApp:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())


def nothing_but_the_marker(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether the app saw no input between ``before`` and ``after`` but :meth:`TkApp.settle`'s one click."""
    marker = {"last_click", "left_clicks"}
    same = {k: v for k, v in before.items() if k not in marker} == {k: v for k, v in after.items() if k not in marker}
    return same and after["left_clicks"] == before["left_clicks"] + 1


def center(app: TkApp, wid: str) -> dict[str, int]:
    """The screen point at the middle of a widget."""
    w = app.widget(wid)
    return {"x": w["x"] + w["width"] // 2, "y": w["y"] + w["height"] // 2}
