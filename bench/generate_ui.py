"""Render varied desktop screens with Tk under Xvfb and write a ScreenSpot-schema grounding set.

    .venv/bin/python bench/generate_ui.py --out /tmp/grounding --screens 24 [--seed 7]
        [--sizes 1280x800,1366x768,1920x1080,2560x1440] [--targets-per-screen 16] [--context]

Each screen is a desktop: a top panel and one to four windows (forms, data tables, an editor with
an open menu, dialogs, settings pages, a browser), with a random theme (light, dark, grey,
solarized, blue), font family and size. Every target's box is read from Tk itself
(``winfo_rootx`` and friends, ``Treeview.bbox``, ``Listbox.bbox``, ``Text.dlineinfo``), so it is
exact. Text targets are unique on their screen (case and spacing aside); icon targets are drawn
shapes with no text. Writes ``OUT/images/*.png`` and ``OUT/dataset.json``: a list of
``{img_filename, instruction, bbox: [x, y, w, h], data_type: text|icon, data_source}``.

``--context`` adds windows that show a target text more than once, and instructions that name the
context a person would use to tell which: a device or user table with a button on every row
("Block for the device LivingRoom-TV", "重置密码 for user 李娜"), an admin page whose narrow sidebar
wraps long entries and repeats the page's heading ("Orders in the left sidebar"), an IDE with a file
explorer and editor tabs ("the api.ts editor tab"), a form with Help in its menu bar and at its
bottom ("Help at the bottom of the form"). Such items are ``data_type: text`` with ``context:
near|position`` (and ``near``: the row's text); every occurrence of their text is in their window,
and a ``near`` text is shown once. Without ``--context`` a seed renders the same set as before.

The widgets, layouts and the choice of targets live in ``bench/ui/``; this file runs them: one
worker process per screen size, each on its own Xvfb. Generated images are not committed:
regenerate them (a screen takes well under a second).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ui.collect import collect  # bench/ is sys.path[0] when this script runs
from ui.desktop import build
from ui.scene import Scene

ROOT = Path(__file__).resolve().parents[1]
SIZES = "1280x800,1366x768,1920x1080,2560x1440"


# --- the worker: builds screens on its display and grabs them -------------------------------------


def worker(size: str, seeds: list[int], images: Path, limit: int, context: bool = False) -> None:
    """Build each seed's screen on this process's display, grab it, print one JSON line per screen."""
    import tkinter as tk
    from tkinter import font as tkfont

    import mss
    from PIL import Image

    width, height = (int(v) for v in size.split("x"))
    root = tk.Tk()
    root.geometry(f"{width}x{height}+0+0")
    families = set(tkfont.families(root))
    factory = getattr(mss, "MSS", None) or mss.mss
    with factory() as grabber:
        for seed in seeds:
            rng = random.Random(seed)
            scene = Scene(root, rng, width, height, sorted(families), context)
            build(scene)
            shot = _stable_grab(root, grabber, width, height)
            targets = collect(scene, limit)
            name = f"ui_{seed:05d}_{width}x{height}.png"
            shot.save(images / name, compress_level=1)
            source = f"tk-{scene.theme.name}-{'+'.join(sorted(set(scene.kinds)))}"
            items = [
                {
                    "img_filename": name,
                    "instruction": t["instruction"],
                    "bbox": t["bbox"],
                    "data_type": t["data_type"],
                    "data_source": source,
                    "text": t["text"],
                    "font": f"{scene.family} {scene.px}px",
                    **{key: t[key] for key in ("context", "near") if key in t},
                }
                for t in targets
            ]
            print(json.dumps(items, ensure_ascii=False), flush=True)
            scene.frame.destroy()
            root.update()
    root.destroy()
    _ = Image  # PIL is what mss images are converted with


def _stable_grab(root: Any, grabber: Any, width: int, height: int) -> Any:
    """Grab until two consecutive frames are identical (fonts and layout have settled)."""
    from PIL import Image

    def grab() -> Any:
        root.update()
        shot = grabber.grab({"left": 0, "top": 0, "width": width, "height": height})
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    previous = grab()
    for _ in range(50):
        time.sleep(0.05)
        current = grab()
        if current.tobytes() == previous.tobytes():
            return current
        previous = current
    return previous


def generate(
    out: Path, screens: int, seed: int, sizes: list[str], limit: int, context: bool = False
) -> list[dict[str, Any]]:
    """Render ``screens`` screens over ``sizes`` under private Xvfb servers; returns the dataset items."""
    sys.path.insert(0, str(ROOT))
    from tests.support.xvfb import start_xvfb

    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    plan: dict[str, list[int]] = {size: [] for size in sizes}
    for index in range(screens):
        plan[sizes[index % len(sizes)]].append(seed * 1000 + index)
    items: list[dict[str, Any]] = []
    for size, seeds in plan.items():
        if not seeds:
            continue
        width, height = (int(v) for v in size.split("x"))
        xvfb = start_xvfb(width, height)
        try:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                size,
                "--out",
                str(out),
                "--seeds",
                ",".join(map(str, seeds)),
                "--targets-per-screen",
                str(limit),
                *(["--context"] if context else []),
            ]
            done = subprocess.run(command, env=xvfb.env(), capture_output=True, text=True, timeout=60 + 10 * len(seeds))
        finally:
            xvfb.stop()
        if done.returncode != 0:
            raise RuntimeError(f"the {size} worker failed:\n{done.stderr[-3000:]}")
        for line in done.stdout.splitlines():
            items.extend(json.loads(line))
    (out / "dataset.json").write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    return items


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (images/ and dataset.json)")
    parser.add_argument("--screens", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated WxH (default {SIZES})")
    parser.add_argument("--targets-per-screen", type=int, default=16)
    parser.add_argument(
        "--context",
        action="store_true",
        help="add windows that repeat a target, with instructions naming its row or place",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seeds", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        seeds = [int(s) for s in args.seeds.split(",")]
        worker(args.worker, seeds, args.out / "images", args.targets_per_screen, args.context)
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    items = generate(args.out, args.screens, args.seed, sizes, args.targets_per_screen, args.context)
    kinds = {k: sum(1 for i in items if i["data_type"] == k) for k in ("text", "icon")}
    named = sum(1 for i in items if "context" in i)
    extra = f", {named} of them named by context" if args.context else ""
    print(
        f"{len(items)} targets ({kinds['text']} text{extra}, {kinds['icon']} icon) on {args.screens} screens "
        f"in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
