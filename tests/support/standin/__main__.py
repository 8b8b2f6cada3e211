"""Run the stand-in on its own: ``python -m tests.support.standin --port 30000 [--scenario FILE]``.

It writes its base URL as the first line of stdout, then serves until interrupted; other processes
set its scenario and read its requests through the control API (see :mod:`.handler`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Sequence

from tests.support.standin.scenario import Scenario
from tests.support.standin.server import DEFAULT_MODEL, StandIn


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stand-in on its own until interrupted; writes its base URL as the first line of stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.standin", description="Stand-in SGLang server for tests"
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--scenario", help="a scenario JSON file to start with")
    args = parser.parse_args(argv)
    with StandIn(model=args.model, port=args.port) as server:
        if args.scenario:
            with open(args.scenario, encoding="utf-8") as handle:
                server.set_scenario(Scenario.from_json(handle.read()))
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
