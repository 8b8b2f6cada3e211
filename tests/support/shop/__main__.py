"""Serve the shop admin on its own, for the README's demo: ``python -m tests.support.shop --lang zh``.

Prints the URL on stderr, then what the shop receives (submissions, Delete presses) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

from tests.support.shop.app import ShopServer
from tests.support.shop.variant import ShopVariant


def main() -> int:
    """Run the shop until interrupted."""
    parser = argparse.ArgumentParser(description="The shop admin demo app")
    parser.add_argument("--lang", choices=["en", "zh"], default="zh")
    args = parser.parse_args()
    with ShopServer(ShopVariant.default(args.lang)) as shop:
        print(f"shop admin: {shop.url}/dashboard  (Ctrl-C to stop)", file=sys.stderr)
        seen = 0
        try:
            while True:
                threading.Event().wait(1.0)
                events = shop.received + [{"DELETE pressed": d} for d in shop.deletes]
                for event in events[seen:]:
                    print(json.dumps(event, ensure_ascii=False), file=sys.stderr)
                seen = len(events)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
