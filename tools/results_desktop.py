"""What the desktop-structure tools return: windows, the clipboard, waits, the accessibility tree."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.desktop.platform import WindowInfo


class WindowRef(BaseModel):
    """One top-level window."""

    id: str = Field(description="The window's id, e.g. '0x1a00003': pass it to focus_window and the other tools.")
    title: str
    app: str = Field(description="The application's class name (e.g. 'Mousepad'); may be empty.")
    pid: int | None = Field(description="Its process id, when the application publishes it (_NET_WM_PID).")
    box: tuple[int, int, int, int] = Field(
        description="[x1, y1, x2, y2] of its content area in screen pixels (x2/y2 exclusive), frame excluded."
    )
    monitor: int | None = Field(None, description="The monitor (1..) its centre is on.")
    focused: bool = Field(description="It has the keyboard: typing goes here.")
    minimized: bool
    kind: str = Field("normal", description="normal, dialog, utility, ...")

    @classmethod
    def of(cls, window: WindowInfo, monitor: int | None = None) -> WindowRef:
        """From the platform's :class:`WindowInfo`."""
        return cls(
            id=window.hex_id,
            title=window.title,
            app=window.app,
            pid=window.pid,
            box=window.box,
            monitor=monitor,
            focused=window.focused,
            minimized=window.minimized,
            kind=window.kind,
        )


class WindowsResult(BaseModel):
    """``list_windows``'s structured result."""

    windows: list[WindowRef] = Field(description="Oldest first.")
    focused: WindowRef | None = Field(description="The window that has the keyboard, if any.")


class ClipboardResult(BaseModel):
    """``clipboard_read``'s structured result."""

    text: str
    chars: int
    audit_id: str | None = Field(None, description="The audit log record of this read (the text itself is not logged).")


class WaitResult(BaseModel):
    """``wait_for``'s structured result: the condition held."""

    condition: str = Field(description="What was waited for, in words.")
    elapsed_ms: float = Field(description="How long it took to hold.")
    looks: int = Field(description="How many times the screen or the window list was looked at.")
    seen: str = Field(description="What was seen when it held.")
    box: tuple[int, int, int, int] | None = Field(None, description="Where the text was seen (screen pixels).")
    window: WindowRef | None = Field(None, description="The window that appeared.")


class TreeReport(BaseModel):
    """How much of one window's accessibility tree was read."""

    window: str = Field(description="The window's id.")
    title: str
    status: Literal["complete", "partial", "absent", "unavailable"] = Field(
        description="complete: every showing widget was read; partial: a node or time cap was hit, or parts did "
        "not answer (what was read is used, but it is not all); absent: the application exposes no tree (Tk, "
        "canvas apps, games): OCR and the model describe it; unavailable: no accessibility bus on this desktop."
    )
    nodes: int
    detail: str
