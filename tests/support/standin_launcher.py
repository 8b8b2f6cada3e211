"""A stand-in for ``python -m sglang.launch_server``: the same command line, the stand-in's endpoints.

It takes SGLang's flags (``--model-path``, ``--host``, ``--port`` and any others, recorded), serves
the stand-in on that port with a scene of the grounding canary's targets, and misbehaves on request
through its environment:

- ``STANDIN_LAUNCH=ok`` (default): serve; point answers land on the canary's targets.
- ``STANDIN_LAUNCH=offset``: serve; every answer lands ``STANDIN_OFFSET`` px (default 90) to the right.
- ``STANDIN_LAUNCH=crash``: exit with status 3 at once.
- ``STANDIN_LAUNCH=hang``: never open the port.
- ``STANDIN_DIE_FILE=path``: exit with status 7 as soon as ``path`` exists (deleting it first).
- ``STANDIN_RECORD=path``: append ``{"pid", "argv"}`` as a JSON line at start.

The canary's targets are the stand-in's own copy (tests/support/standin/canary.py), not imported
from the engine: an oracle must not reuse the code under test (a test checks the two tables agree).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.standin.canary import CANARY_FRAME, CANARY_TARGETS
from tests.support.standin.scenario import Scenario
from tests.support.standin.server import StandIn


def canary_scenario(offset: tuple[int, int] = (0, 0)) -> Scenario:
    """A scene whose elements are the canary's targets, moved by ``offset`` (where a broken server "sees" them).

    The canary's own requests are answered from its image (tests/support/standin/canary.py), moved by
    ``offset``'s x; describe and plan requests on the canary's screen get these elements.
    """
    dx, dy = offset
    elements = [
        {"type": "button", "label": label, "box": [x1 + dx, y1 + dy, x2 + dx, y2 + dy]}
        for label, (x1, y1, x2, y2) in CANARY_TARGETS.items()
    ]
    return Scenario(frame=dict(CANARY_FRAME), elements=elements, plan=[], canary_offset_px=dx)


def _die_when(path: Path) -> None:
    while not path.exists():
        time.sleep(0.05)
    path.unlink(missing_ok=True)
    os._exit(7)


def main(argv: Sequence[str] | None = None) -> int:
    """Run like ``sglang.launch_server`` would, as the environment says."""
    parser = argparse.ArgumentParser(description="stand-in for sglang.launch_server")
    parser.add_argument("--model-path", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=30000)
    args, _ = parser.parse_known_args(argv)
    record = os.environ.get("STANDIN_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"pid": os.getpid(), "argv": list(argv or sys.argv[1:])}) + "\n")
    mode = os.environ.get("STANDIN_LAUNCH", "ok")
    if mode == "crash":
        print("stand-in launcher: crashing as asked", file=sys.stderr)
        return 3
    if mode == "hang":
        threading.Event().wait()
    die_file = os.environ.get("STANDIN_DIE_FILE")
    if die_file:
        threading.Thread(target=_die_when, args=(Path(die_file),), daemon=True).start()
    offset = (int(os.environ.get("STANDIN_OFFSET", "90")), 0) if mode == "offset" else (0, 0)
    with StandIn(model=args.model_path, host=args.host, port=args.port) as server:
        server.set_scenario(canary_scenario(offset))
        print(f"stand-in launcher: serving {args.model_path} at {server.base_url}", file=sys.stderr, flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
