"""``python -m bench [name ...]``: run the benchmarks (all by default) and print their figures."""

from __future__ import annotations

import importlib
import platform
import sys

BENCHES = ["engine", "http", "reports", "verification", "aggregates"]


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.node()}")
    for name in names:
        importlib.import_module(f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
