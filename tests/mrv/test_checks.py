"""The automated checks as pure functions, for the cases the end-to-end tests do not reach."""

from __future__ import annotations

from decimal import Decimal

import accounting
from mrv.domain import checks
from tests.mrv.verification_helpers import plausible_cement


def check_input(**extra: object) -> checks.CheckInput:
    lines = plausible_cement()
    calculation = accounting.calculate({"sector": "cement", "year": 2024, "lines": lines})
    stored = [
        checks.StoredLine(line.co2e, line.gases.get("CO2", Decimal(0)), Decimal(0), Decimal(0))
        for line in calculation.lines
    ]
    return checks.CheckInput(
        sector="cement",
        year=2024,
        methodology=calculation.methodology,
        lines=lines,
        calculation=calculation,
        stored_lines=stored,
        stored_totals={"total": str(calculation.totals.total)},
        **extra,
    )  # type: ignore[arg-type]


def codes(data: checks.CheckInput) -> set[str]:
    return {finding.code for finding in checks.run_checks(data)}


def test_a_plausible_report_raises_no_warning_or_error() -> None:
    findings = checks.run_checks(check_input())
    assert not [f for f in findings if f.severity in ("warning", "error")], findings


def test_monthly_reports_that_do_not_add_up_to_the_annual_claim() -> None:
    data = check_input()
    direct = data.calculation.totals.direct
    assert "monthly_annual_mismatch" not in codes(check_input(monthly_direct=direct, monthly_reports=12))
    assert "monthly_annual_mismatch" in codes(
        check_input(monthly_direct=direct * Decimal("0.9"), monthly_reports=12)
    )


def test_intensity_outside_the_peer_band_is_pointed_out() -> None:
    inside = codes(check_input(peer_band=(Decimal("0.7"), Decimal("0.9"))))
    outside = codes(check_input(peer_band=(Decimal("0.5"), Decimal("0.6"))))
    assert "outside_peer_band" not in inside and "outside_peer_band" in outside


def test_progress_is_reported_after_each_check() -> None:
    seen: list[int] = []
    checks.run_checks(check_input(), seen.append)
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) == len(checks.CHECKS)


def test_materiality_threshold_is_5_percent_up_to_500_kt_and_2_percent_above() -> None:
    from mrv.services.verification import materiality_figures

    small = materiality_figures(
        reported_total=Decimal(100_000), misstatements=[Decimal(3_000), Decimal(-1_500)]
    )
    assert (
        small["threshold_percent"] == 5 and small["percent"] == Decimal("4.5") and small["material"] is False
    )
    assert materiality_figures(reported_total=Decimal(100_000), misstatements=[Decimal(5_001)])["material"]
    large = materiality_figures(reported_total=Decimal(600_000), misstatements=[Decimal(12_001)])
    assert large["threshold_percent"] == 2 and large["material"] is True
    assert not materiality_figures(reported_total=Decimal(600_000), misstatements=[Decimal(12_000)])[
        "material"
    ]
