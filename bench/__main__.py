"""``python -m bench [name ...]``: run the benchmarks (all by default) and print their figures.

With more than one name each benchmark runs in a process of its own, so that one's Django set-up
(SQLite for ``http``, PostgreSQL databases of their own for the others) never leaks into the next.
"""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys

BENCHES = [
    "engine",
    "http",
    "reports",
    "verification",
    "aggregates",
    "auth",
    "documents",
    "evidence",
    "webhooks",
    "allocation",
]


def main(argv: list[str]) -> int:
    names = argv or BENCHES
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
        return 2
    if len(names) == 1:
        importlib.import_module(f"bench.{names[0]}").run()
        return 0
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.node()}")
    failed = [name for name in names if subprocess.run([sys.executable, "-m", "bench", name]).returncode != 0]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
