"""Engine throughput on a 10,000-line mixed batch, against a pint-Quantity-per-operation baseline."""

from __future__ import annotations

import os
from decimal import Decimal

from accounting import calculate
from bench import naive
from bench.common import report, timed
from bench.workload import mixed_batch

LINES = 10_000


def run() -> dict[str, float]:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    batch = mixed_batch(LINES)
    payload = {"methodology": "cn-mee-2024", "lines": batch}
    engine_s, calculation = timed(lambda: calculate(payload), repeat=7)
    full_s, _ = timed(lambda: calculate(payload).as_json(), repeat=7)
    naive_s, naive_total = timed(lambda: naive.total_co2e(batch), repeat=1, warmup=0)

    engine_total = calculation.totals.total
    relative = abs(engine_total - naive_total) / abs(engine_total)
    assert relative < Decimal("1e-9"), f"baseline disagrees: {engine_total} vs {naive_total}"

    engine_rate, full_rate, naive_rate = LINES / engine_s, LINES / full_s, LINES / naive_s
    report(
        f"engine: {LINES} mixed lines (cement, steel, aluminium), one core",
        [
            (
                "engine calculate()",
                f"{engine_s * 1000:8.1f} ms  {engine_rate:10,.0f} lines/s  (goal >= 50,000)",
            ),
            ("calculate() + as_json()", f"{full_s * 1000:8.1f} ms  {full_rate:10,.0f} lines/s"),
            ("naive pint per operation", f"{naive_s * 1000:8.1f} ms  {naive_rate:10,.0f} lines/s"),
            ("engine / naive speed-up", f"{engine_rate / naive_rate:8.1f} x  (goal >= 15 x)"),
            ("totals agree (relative)", f"{relative:.1e}"),
        ],
    )
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return {"engine_lines_per_s": engine_rate, "speedup_vs_naive": engine_rate / naive_rate}
