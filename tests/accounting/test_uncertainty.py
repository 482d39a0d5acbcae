"""Uncertainty (IPCC 2006 Vol. 1 Ch. 3 Approach 1) through the engine: a line's stated ±% (or its
activity-data tier) propagates to the line (Eq. 3.2) and to the totals (Eq. 3.1), checked against hand
computations; bad statements are refused with a pointer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting import InvalidInput, calculate
from accounting.compare import compare
from accounting.uncertainty import TIERS, product_percent, sum_percent


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


# Line 1: 100 t of electrodes × 3 tCO2/t = 300 t CO2 (process), activity ±2 %, factor ±3 %.
ELECTRODES = {
    "ref": "electrodes",
    "source": "electrode",
    "quantity": q("100", "t"),
    "emission_factor": q("3", "tCO2/t"),
    "uncertainty": {"activity_percent": "2", "factor_percent": "3"},
}
# Line 2: 1000 MWh × 0.5 tCO2/MWh = 500 t CO2 (indirect), meter ±1 %, grid factor ±10 %.
GRID = {
    "ref": "grid",
    "source": "electricity",
    "quantity": q("1000", "MWh"),
    "emission_factor": q("0.5", "tCO2/MWh"),
    "uncertainty": {"activity_percent": 1, "factor_percent": "10"},
}


def run(*lines: dict[str, Any], methodology: str = "cn-mee-2024") -> dict[str, Any]:
    return calculate({"methodology": methodology, "lines": list(lines)}).as_json()


def refused(*lines: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        run(*lines)
    return [(error.pointer, error.code) for error in caught.value.errors]


def test_two_lines_propagate_as_computed_by_hand() -> None:
    result = run(ELECTRODES, GRID)
    electrodes, grid = result["lines"]
    assert (electrodes["co2e"], grid["co2e"]) == (Decimal(300), Decimal(500))
    # Eq. 3.2, line 1: sqrt(2² + 3²) = sqrt(13) = 3.605551275… → 3.6056 %
    assert electrodes["uncertainty_percent"] == Decimal("3.6056")
    # line 2: sqrt(1² + 10²) = sqrt(101) = 10.049875621… → 10.0499 %
    assert grid["uncertainty_percent"] == Decimal("10.0499")
    assert electrodes["uncertainty"] == {"activity_percent": Decimal(2), "factor_percent": Decimal(3)}
    totals = result["totals"]
    # Eq. 3.1: (U1·x1)² = 13 × 300² = 1,170,000; (U2·x2)² = 101 × 500² = 25,250,000; sum 26,420,000
    # sqrt(26,420,000) = 5140.03891… (5140² = 26,419,600, remainder 400, 400 / 10,280 = 0.0389);
    # / |300 + 500| = 6.425048… → 6.4250 %
    assert totals["uncertainty_percent"] == Decimal("6.4250")
    spread = totals["uncertainty"]
    assert spread["total_percent"] == Decimal("6.425")
    # direct is line 1 alone, indirect line 2 alone
    assert (spread["direct_percent"], spread["indirect_percent"]) == (Decimal("3.6056"), Decimal("10.0499"))
    assert spread["by_category"] == {
        "combustion": None,  # no emissions: a zero sum has no relative uncertainty
        "process": Decimal("3.6056"),
        "indirect_electricity": Decimal("10.0499"),
        "indirect_heat": None,
    }
    assert spread["coverage"] == {"lines": 2, "emission_lines": 2, "co2e_share": Decimal(1)}
    assert spread["lines_without_uncertainty"] == "counted_as_exact"


def test_the_propagation_functions_follow_equations_3_1_and_3_2() -> None:
    # 3-4-5: sqrt(3² + 4²) = 5 exactly; a sum of two equal lines at 10 % each: sqrt(2 × 10² × 1²) / 2
    # = 10 × sqrt(2) / 2 = 7.0710678118654752440084436210484903… (34 digits)
    assert product_percent(Decimal(3), Decimal(4)) == Decimal(5)
    assert sum_percent([(Decimal(100), Decimal(1)), (Decimal(100), Decimal(1))]) == Decimal(
        "7.071067811865475244008443621048490"
    )
    assert sum_percent([(Decimal(100), Decimal(1)), (Decimal(100), Decimal(-1))]) is None


def test_a_line_without_uncertainty_counts_as_exact_and_the_coverage_says_so() -> None:
    other = {
        "ref": "more",
        "source": "electrode",
        "quantity": q("700", "t"),
        "emission_factor": q("1", "tCO2/t"),
    }
    result = run(ELECTRODES, other)
    assert "uncertainty_percent" not in result["lines"][1] and "uncertainty" not in result["lines"][1]
    # sqrt(13 × 300²) / (300 + 700) = 300 × 3.605551275… / 1000 = 1.08166538… → 1.0817 %
    assert result["totals"]["uncertainty_percent"] == Decimal("1.0817")
    # 300 of 1000 t are covered
    assert result["totals"]["uncertainty"]["coverage"] == {
        "lines": 1,
        "emission_lines": 2,
        "co2e_share": Decimal("0.3"),
    }


def test_no_stated_uncertainty_leaves_the_results_as_they_were() -> None:
    plain = {key: value for key, value in ELECTRODES.items() if key != "uncertainty"}
    result = run(plain)
    assert "uncertainty_percent" not in result["lines"][0]
    assert "uncertainty_percent" not in result["totals"] and "uncertainty" not in result["totals"]


@pytest.mark.parametrize(
    ("tier", "factor", "expected"),
    [
        (1, "10", "12.5"),  # EU MRR tier 1 ±7.5 %: sqrt(7.5² + 10²) = sqrt(56.25 + 100) = 12.5
        (2, "12", "13"),  # tier 2 ±5 %: sqrt(25 + 144) = 13
        (3, "6", "6.5"),  # tier 3 ±2.5 %: sqrt(6.25 + 36) = 6.5
        (4, "2", "2.5"),  # tier 4 ±1.5 %: sqrt(2.25 + 4) = 2.5
        ("4", None, "1.5"),  # a tier alone: the factor is not stated and counts as 0
    ],
)
def test_the_tier_of_the_activity_data_gives_its_eu_mrr_threshold(
    tier: Any, factor: str | None, expected: str
) -> None:
    stated: dict[str, Any] = {"tier": tier}
    if factor is not None:
        stated["factor_percent"] = factor
    coal = {
        "ref": "coal",
        "source": "fuel_combustion",
        "fuel": "bituminous_coal",
        "quantity": q("1000", "t"),
        "uncertainty": stated,
    }
    line = run(coal, methodology="eu-mrr-2018")["lines"][0]
    assert line["uncertainty_percent"] == Decimal(expected)
    assert line["uncertainty"]["tier"] == int(tier)
    assert (
        line["uncertainty"]["activity_percent"]
        == {1: Decimal("7.5"), 2: 5, 3: Decimal("2.5"), 4: Decimal("1.5")}[int(tier)]
    )
    assert "Annex II" in line["uncertainty"]["tier_source"]


def test_the_tier_table_is_the_references() -> None:
    assert dict(TIERS["fuel_combustion"]) == {
        1: Decimal("7.5"),
        2: Decimal("5"),
        3: Decimal("2.5"),
        4: Decimal("1.5"),
    }


def test_percentages_may_be_given_as_quantities_in_percent_and_100_is_accepted() -> None:
    line = {**ELECTRODES, "uncertainty": {"activity_percent": q("100", "%")}}
    assert run(line)["lines"][0]["uncertainty_percent"] == Decimal(100)


def test_a_zero_total_has_no_relative_uncertainty() -> None:
    bought = {**GRID, "ref": "bought"}
    sold = {**GRID, "ref": "sold", "direction": "exported"}
    totals = run(bought, sold)["totals"]
    # 500 − 500 = 0 t: Eq. 3.1 divides by |Σ x| = 0, so no percentage is given
    assert totals["total"] == 0 and totals["uncertainty_percent"] is None
    assert totals["uncertainty"]["indirect_percent"] is None


BAD: list[tuple[str, Any, str, str]] = [
    ("negative", {"activity_percent": "-1"}, "/lines/0/uncertainty/activity_percent", "negative"),
    ("above-100", {"factor_percent": "100.5"}, "/lines/0/uncertainty/factor_percent", "out_of_range"),
    ("not-a-number", {"factor_percent": "lots"}, "/lines/0/uncertainty/factor_percent", "not_a_number"),
    ("boolean", {"factor_percent": True}, "/lines/0/uncertainty/factor_percent", "not_a_number"),
    (
        "wrong-unit",
        {"factor_percent": {"value": "3", "unit": "t"}},
        "/lines/0/uncertainty/factor_percent/unit",
        "wrong_dimension",
    ),
    (
        "percent-value-negative",
        {"factor_percent": {"value": "-3", "unit": "%"}},
        "/lines/0/uncertainty/factor_percent/value",
        "negative",
    ),
    ("empty", {}, "/lines/0/uncertainty", "required"),
    ("not-an-object", "5", "/lines/0/uncertainty", "invalid_type"),
    ("unknown-key", {"activity_percent": "2", "sigma": "1"}, "/lines/0/uncertainty/sigma", "unknown_field"),
    ("tier-on-a-process-line", {"tier": 2}, "/lines/0/uncertainty/tier", "no_tier_thresholds"),
]


@pytest.mark.parametrize(("stated", "pointer", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_uncertainty_is_refused_with_a_pointer(stated: Any, pointer: str, code: str) -> None:
    assert (pointer, code) in refused({**ELECTRODES, "uncertainty": stated})


COAL = {"source": "fuel_combustion", "fuel": "bituminous_coal", "quantity": q("100", "t")}


@pytest.mark.parametrize(
    ("stated", "code"),
    [({"tier": 5}, "out_of_range"), ({"tier": "1.5"}, "out_of_range"), ({"tier": 0}, "out_of_range")],
)
def test_a_tier_outside_the_table_is_refused(stated: dict[str, Any], code: str) -> None:
    assert refused({**COAL, "uncertainty": stated}) == [("/lines/0/uncertainty/tier", code)]


def test_a_tier_and_an_activity_percent_conflict() -> None:
    stated = {"tier": 2, "activity_percent": "5"}
    assert refused({**COAL, "uncertainty": stated}) == [("/lines/0/uncertainty/tier", "conflict")]


def test_a_production_line_states_no_uncertainty() -> None:
    line = {"source": "production", "product": "clinker", "quantity": q("1", "t"), "uncertainty": {"tier": 1}}
    assert refused(line) == [("/lines/0/uncertainty", "unknown_field")]


def test_every_bad_statement_is_reported_in_one_answer_with_the_lines_other_errors() -> None:
    errors = refused(
        {**ELECTRODES, "uncertainty": {"activity_percent": "-2", "factor_percent": "101"}},
        {**GRID, "quantity": q("-1", "MWh"), "uncertainty": {"activity_percent": "x"}},
    )
    assert errors == [
        ("/lines/0/uncertainty/activity_percent", "negative"),
        ("/lines/0/uncertainty/factor_percent", "out_of_range"),
        ("/lines/1/uncertainty/activity_percent", "not_a_number"),
        ("/lines/1/quantity/value", "negative"),
    ]


def test_compare_shows_the_uncertainty_per_methodology_and_line() -> None:
    # Diesel, 100 t on each regime's defaults, tier 3 (±2.5 %) and factor ±6 % → sqrt(6.25 + 36) = 6.5 %;
    # electrodes 300 t, activity ±4 %, factor ±3 % → 5 %.
    diesel = {
        "ref": "diesel",
        "source": "fuel_combustion",
        "fuel": "diesel",
        "quantity": q("100", "t"),
        "uncertainty": {"tier": 3, "factor_percent": "6"},
    }
    electrodes = {**ELECTRODES, "uncertainty": {"activity_percent": "4", "factor_percent": "3"}}
    body = compare({"methodologies": ["eu-mrr-2018", "cn-mee-2024@2024.2"], "lines": [diesel, electrodes]})
    eu, cn = "eu-mrr-2018@2018.1", "cn-mee-2024@2024.2"
    first, second = body["lines"]
    assert {first["figures"][k]["uncertainty_percent"] for k in (eu, cn)} == {Decimal("6.5")}
    assert {second["figures"][k]["uncertainty_percent"] for k in (eu, cn)} == {Decimal(5)}
    # EU MRR: diesel 100 t × 43.0 GJ/t × 74.1 tCO2/TJ / 1000 = 318.63 t; total 618.63 t
    # (6.5 × 318.63)² = 2071.095² = 4,289,434.499025; (5 × 300)² = 2,250,000; sum 6,539,434.499025
    # sqrt = 2557.231803… (2557.23² = 6,539,425.2729; remainder 9.226125 / 5114.46 = 0.001804)
    # / 618.63 = 4.133701… → 4.1337 %
    assert body["totals"][eu]["uncertainty_percent"] == Decimal("4.1337")
    # cn-mee 2024.2: diesel 100 × 42.652 GJ/t × 0.02020 tC/GJ × 0.98 × 44/12 = 84.4338992 × 44/12
    # = 309.590963733… t; total 609.590963733… t
    # (6.5 × 309.590963733)² = 2012.341264267² = 4,049,517.36…; + 2,250,000 = 6,299,517.36…
    # sqrt = 2509.88393…; / 609.590963733 = 4.117324… → 4.1173 %
    assert body["totals"][cn]["uncertainty_percent"] == Decimal("4.1173")
    assert body["totals"][eu]["uncertainty"]["coverage"]["lines"] == 2


def test_a_remembered_statement_is_told_apart_by_type() -> None:
    # {"factor_percent": 1} is valid and remembered; True equals 1 in Python but is no number here
    assert run({**ELECTRODES, "uncertainty": {"factor_percent": 1}})["lines"][0]["uncertainty_percent"] == 1
    assert refused({**ELECTRODES, "uncertainty": {"factor_percent": True}}) == [
        ("/lines/0/uncertainty/factor_percent", "not_a_number")
    ]
    # and a remembered valid statement on a process line does not make a tier valid there
    assert run({**COAL, "uncertainty": {"tier": 1}})["lines"][0]["uncertainty_percent"] == Decimal("7.5")
    assert refused({**ELECTRODES, "uncertainty": {"tier": 1}}) == [
        ("/lines/0/uncertainty/tier", "no_tier_thresholds")
    ]


@pytest.mark.parametrize(
    ("methodology", "fields"),
    [
        ("cn-mee-2024", {"method": "cn_mee", "anode_effect_minutes": "0.1"}),
        ("ipcc-2006", {"method": "slope", "cell_technology": "CWPB", "anode_effect_minutes": "0.1"}),
        ("ipcc-2006", {"method": "tier1", "cell_technology": "CWPB"}),
        (
            "ipcc-2006",
            {
                "method": "overvoltage",
                "cell_technology": "CWPB",
                "overvoltage_mv": "1.5",
                "current_efficiency": "94",
            },
        ),
        ("eu-mrr-2018", {"method": "slope", "cell_technology": "CWPB", "anode_effect_minutes": "0.1"}),
        (
            "eu-mrr-2018",
            {
                "method": "overvoltage",
                "cell_technology": "CWPB",
                "overvoltage_mv": "1.5",
                "current_efficiency": "94",
            },
        ),
    ],
)
def test_every_anode_effect_method_takes_an_uncertainty(methodology: str, fields: dict[str, str]) -> None:
    # these methods refuse fields foreign to them; the line's uncertainty is the engine's, never foreign
    line = {"source": "anode_effect", "aluminium_production": q("1000", "t"), **fields}
    result = run(
        {**line, "uncertainty": {"activity_percent": "3", "factor_percent": "4"}}, methodology=methodology
    )
    assert result["lines"][0]["uncertainty_percent"] == 5  # sqrt(9 + 16)
