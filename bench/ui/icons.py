"""Icons drawn on a Tk canvas: recognisable shapes with no text, for icon targets."""

from __future__ import annotations

import math
from typing import Any


def draw_icon(canvas: Any, name: str, size: int, fg: str, accent: str) -> None:
    """Draw a recognisable icon shape on a square canvas."""
    s, m = size, max(2, size // 6)
    width = max(1, size // 10)
    c = s / 2
    if name == "search":
        canvas.create_oval(m, m, s * 0.65, s * 0.65, outline=fg, width=width)
        canvas.create_line(s * 0.6, s * 0.6, s - m, s - m, fill=fg, width=width + 1)
    elif name == "refresh":
        canvas.create_arc(m, m, s - m, s - m, start=30, extent=300, style="arc", outline=fg, width=width)
        canvas.create_polygon(s - m, c - m, s - m, c + m // 2, s - 2.5 * m, c - m // 2, fill=fg)
    elif name in ("back", "forward"):
        sign = -1 if name == "back" else 1
        canvas.create_line(
            c - sign * (c - m),
            c,
            c + sign * (c - m),
            c,
            fill=fg,
            width=width,
            arrow="last",
            arrowshape=(m * 2, m * 2, m),
        )
    elif name == "plus":
        canvas.create_line(c, m, c, s - m, fill=accent, width=width + 1)
        canvas.create_line(m, c, s - m, c, fill=accent, width=width + 1)
    elif name == "trash":
        canvas.create_rectangle(m * 1.5, m * 1.8, s - m * 1.5, s - m, outline=fg, width=width)
        canvas.create_line(m, m * 1.5, s - m, m * 1.5, fill=fg, width=width)
        canvas.create_rectangle(c - m / 2, m * 0.8, c + m / 2, m * 1.5, outline=fg)
    elif name == "gear":
        for k in range(8):
            canvas.create_line(c, c, c + (c - m / 2) * _cos(k), c + (c - m / 2) * _sin(k), fill=fg, width=width + 1)
        canvas.create_oval(c - c / 2, c - c / 2, c + c / 2, c + c / 2, fill=canvas.cget("bg"), outline=fg, width=width)
    elif name == "menu":
        for share in (0.3, 0.5, 0.7):
            canvas.create_line(m, s * share, s - m, s * share, fill=fg, width=width + 1)
    elif name == "star":
        points = []
        for k in range(10):
            r = (c - m / 2) if k % 2 == 0 else (c - m / 2) * 0.45
            points += [c + r * _cos(k * 0.5 - 2), c + r * _sin(k * 0.5 - 2)]
        canvas.create_polygon(points, outline=fg, fill="", width=width)
    elif name == "home":
        canvas.create_polygon(
            c,
            m,
            s - m,
            c,
            s - 1.6 * m,
            c,
            s - 1.6 * m,
            s - m,
            1.6 * m,
            s - m,
            1.6 * m,
            c,
            m,
            c,
            outline=fg,
            fill="",
            width=width,
        )
    elif name == "close":
        canvas.create_line(m, m, s - m, s - m, fill=fg, width=width + 1)
        canvas.create_line(m, s - m, s - m, m, fill=fg, width=width + 1)
    elif name == "maximize":
        canvas.create_rectangle(m, m, s - m, s - m, outline=fg, width=width + 1)
    elif name == "minimize":
        canvas.create_line(m, s - m * 1.5, s - m, s - m * 1.5, fill=fg, width=width + 1)
    elif name == "warning":
        canvas.create_polygon(c, m, s - m, s - m, m, s - m, fill="#e0a800", outline="#7a5c00")
        canvas.create_line(c, s * 0.38, c, s * 0.68, fill="#000000", width=width + 1)
        canvas.create_oval(c - width, s * 0.76, c + width, s * 0.76 + 2 * width, fill="#000000")


def _cos(k: float) -> float:
    return math.cos(k * math.pi / 4)


def _sin(k: float) -> float:
    return math.sin(k * math.pi / 4)
