"""Engine throughput on a 10,000-line mixed batch, against a pint-Quantity-per-operation baseline; the same
batch under eu-mrr-2018 against cn-mee-2024 (goal: within 20 %); and with an uncertainty on every line
against none."""

from __future__ import annotations

import os
import time
from decimal import Decimal

from accounting import calculate
from bench import naive
from bench.common import interleaved, report, timed
from bench.workload import mixed_batch, portable_batch, with_uncertainty

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
    regimes = _regimes()
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return {"engine_lines_per_s": engine_rate, "speedup_vs_naive": engine_rate / naive_rate, **regimes}


def _regimes() -> dict[str, float]:
    """The same portable batch (every value each regime needs: :func:`bench.workload.portable_batch`) under
    cn-mee-2024 and eu-mrr-2018, and under both with an uncertainty on every emission line; timed in turn
    within each round (``interleaved``) so that both sides of a ratio see the same machine, in CPU time of
    this process (a shared machine's other load inflates wall times unevenly)."""
    batch = portable_batch(LINES)
    stated = with_uncertainty(batch)
    runs = {
        "cn-mee-2024": {"methodology": "cn-mee-2024", "lines": batch},
        "eu-mrr-2018": {"methodology": "eu-mrr-2018", "lines": batch},
        "cn-mee-2024 + uncertainty": {"methodology": "cn-mee-2024", "lines": stated},
        "eu-mrr-2018 + uncertainty": {"methodology": "eu-mrr-2018", "lines": stated},
    }
    for payload in runs.values():  # every run computes (a refused batch would time the validation only)
        calculate(payload)
    times = dict(
        zip(
            runs,
            interleaved(
                [lambda p=p: calculate(p).as_json() for p in runs.values()], rounds=9, clock=time.process_time
            ),
            strict=True,
        )
    )
    rate = {name: LINES / seconds for name, seconds in times.items()}
    eu_ratio = times["eu-mrr-2018"] / times["cn-mee-2024"]
    spread_ratio = times["cn-mee-2024 + uncertainty"] / times["cn-mee-2024"]
    report(
        f"engine by regime: the same {LINES} portable lines, calculate() + as_json(), one core, CPU time",
        [
            *((name, f"{times[name] * 1000:8.1f} ms  {rate[name]:10,.0f} lines/s (CPU)") for name in runs),
            ("eu-mrr-2018 / cn-mee-2024 time", f"{eu_ratio:8.2f} x  (goal <= 1.20 x)"),
            ("with / without uncertainty (cn-mee)", f"{spread_ratio:8.2f} x"),
            (
                "with / without uncertainty (eu-mrr)",
                f"{times['eu-mrr-2018 + uncertainty'] / times['eu-mrr-2018']:8.2f} x",
            ),
        ],
    )
    return {"eu_mrr_over_cn_mee": eu_ratio, "uncertainty_over_none": spread_ratio}
