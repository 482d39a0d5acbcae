"""The automated checks as pure functions, for the cases the end-to-end tests do not reach."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import accounting
from mrv.domain import checks
from tests.mrv.verification_helpers import example_request, plausible_cement, q, with_change


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


def findings_for(sector: str, lines: list[dict[str, Any]], methodology: str = "") -> list[checks.Finding]:
    """The checks of a report of ``lines`` whose stored figures are its own calculation."""
    body: dict[str, Any] = {"sector": sector, "year": 2024, "lines": lines}
    if methodology:
        body["methodology"] = methodology
    calculation = accounting.calculate(body)
    stored = [
        checks.StoredLine(line.co2e, line.gases.get("CO2", Decimal(0)), Decimal(0), Decimal(0))
        for line in calculation.lines
    ]
    return checks.run_checks(
        checks.CheckInput(
            sector=sector,
            year=2024,
            methodology=calculation.methodology,
            lines=lines,
            calculation=calculation,
            stored_lines=stored,
            stored_totals={"total": str(calculation.totals.total)},
        )
    )


def by_code(findings: list[checks.Finding]) -> dict[str, checks.Finding]:
    return {finding.code: finding for finding in findings}


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
    outside = checks.run_checks(check_input(peer_band=(Decimal("0.5"), Decimal("0.6"))))
    assert "outside_peer_band" not in inside
    assert by_code(outside)["outside_peer_band"].severity == "warning"  # a heuristic signal to answer


# -- physical limits: errors --------------------------------------------------------------------------------
COAL_850_BILLION_T = with_change(plausible_cement(), "coal", quantity=q("850000000000", "t"))


@pytest.mark.parametrize(
    "methodology", ["cn-mee-2024", "cn-mee-2024@2024.1", "ipcc-2006", "ipcc-2006@2006.1"]
)
def test_850_billion_tonnes_of_coal_for_one_kiln_is_beyond_physical_limits(methodology: str) -> None:
    findings = by_code(findings_for("cement", COAL_850_BILLION_T, methodology))
    energy = findings["physical_limit_fuel_energy_per_line"]
    assert (energy.severity, energy.pointer, energy.line_ref) == ("error", "/lines/1/quantity", "coal")
    assert energy.value == "19550000000000 GJ" and energy.expected == "at most 1000000000 GJ (physical limit)"
    intensity = findings["physical_limit_cement_direct_intensity"]
    assert intensity.severity == "error" and intensity.pointer == "/totals/direct"
    assert intensity.expected == "at most 2 tCO2/t (physical limit)"
    # the band warning on the same figure gives way to the error
    assert "implausible_direct_intensity" not in findings


def test_reports_under_an_old_version_are_held_to_the_latest_versions_limits() -> None:
    old = accounting.get("cn-mee-2024", "2024.1")
    assert not old.section("physical_limits")  # published before the limits: unchanged
    assert accounting.get("cn-mee-2024").section("physical_limits")
    errors = [
        f for f in findings_for("cement", COAL_850_BILLION_T, "cn-mee-2024@2024.1") if f.severity == "error"
    ]
    assert errors


@pytest.mark.parametrize(
    ("sector", "lines", "code", "pointer", "expected"),
    [
        (
            "steel",
            with_change(
                example_request("steel-bf-bof")["lines"], "bfg-export", quantity=q("1500000", "10^4 Nm3")
            ),
            "physical_limit_steel_direct_intensity",
            "/totals/direct",
            "at least 0 tCO2/t: more cannot leave than was burnt (physical limit)",
        ),
        (
            "aluminium",
            with_change(
                example_request("aluminium-smelter-anode-pfc")["lines"],
                "anodes",
                net_anode_consumption=q("0.2", "t/t"),
            ),
            "physical_limit_net_anode_consumption",
            "/lines/0/net_anode_consumption",
            "0.33 to 1 t/t (physical limit)",
        ),
        (
            "cement",
            with_change(plausible_cement(), "coal", ncv=q("40", "GJ/t")),
            "physical_limit_coal_ncv",
            "/lines/1/ncv",
            "4 to 35 GJ/t (physical limit)",
        ),
    ],
    ids=["exports-beyond-emissions", "anode-below-stoichiometry", "coal-ncv-beyond-carbon"],
)
def test_other_figures_beyond_physical_limits(
    sector: str, lines: list[dict[str, Any]], code: str, pointer: str, expected: str
) -> None:
    finding = by_code(findings_for(sector, lines))[code]
    assert (finding.severity, finding.pointer, finding.expected) == ("error", pointer, expected)


# -- heuristic signals: warnings ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["steel-bf-bof", "cement-clinker-plant", "aluminium-smelter-anode-pfc"])
def test_the_public_examples_raise_no_error_and_no_warning(name: str) -> None:
    request = example_request(name)
    findings = findings_for(request["sector"], request["lines"])
    assert not [f for f in findings if f.severity in ("error", "warning")], findings


def test_an_exported_blast_furnace_gas_line_is_not_a_unit_slip() -> None:
    findings = findings_for("steel", example_request("steel-bf-bof")["lines"])
    assert not [f for f in findings if f.code.startswith("unit_slip")], findings


def test_a_mass_unit_slip_is_found_on_the_line_that_explains_it() -> None:
    """1 000 t of electrodes entered as 1 000 000 t: plausible once kg is read as t; coke would also fit
    the band if divided by 1000, but less well: one guess, the most likely."""
    lines = with_change(example_request("steel-bf-bof")["lines"], "electrodes", quantity=q("1000000", "t"))
    findings = findings_for("steel", lines)
    slips = [f for f in findings if f.code.startswith("unit_slip")]
    assert [(f.code, f.severity, f.pointer) for f in slips] == [
        ("unit_slip_mass", "warning", "/lines/6/quantity")
    ]
    assert slips[0].detail == "the quantity looks like kg entered as t"
    assert slips[0].value == "1000000 t"
    assert slips[0].expected.startswith("1000 t, giving 1.782 tCO2/t")
    assert not [f for f in findings if f.severity == "error"]  # within physics: a warning to answer


def test_production_entered_in_the_wrong_mass_unit() -> None:
    findings = by_code(
        findings_for("cement", with_change(plausible_cement(), "out", quantity=q("1000", "t")))
    )
    slip = findings["unit_slip_mass"]
    assert (
        slip.pointer == "/lines/3/quantity" and slip.detail == "the clinker output looks like kt entered as t"
    )
    assert slip.expected.startswith("1000000 t, giving")


def test_every_finding_says_what_was_expected_of_its_own_figure() -> None:
    percent = by_code(
        findings_for("cement", with_change(plausible_cement(), "clinker", cao_fraction=q("0.65", "%")))
    )
    assert percent["unit_slip_percent"].value == "0.0065"
    assert percent["unit_slip_percent"].expected == "0.65 (65 %), inside 0.60 to 0.68"
    assert percent["implausible_clinker_cao_fraction"].expected == "0.60 to 0.68"
    missing = by_code(findings_for("cement", [line for line in plausible_cement() if line["ref"] != "out"]))
    assert missing["missing_production"].expected == "a production line of clinker with its quantity"
    for finding in [*percent.values(), *missing.values(), *findings_for("cement", COAL_850_BILLION_T)]:
        assert finding.expected, finding


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
