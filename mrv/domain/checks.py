"""Automated verification checks: pure functions over a frozen revision and what is known about its facility.

Each check yields findings ``{code, severity, detail, pointer, line_ref, value, expected}``; bands come
from the methodology bundle (``[plausibility]``, versioned data), never from code. ``CHECK_VERSION``
names this set of checks: a job is unique per revision and check version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounting.engine import Calculation, LineResult
from accounting.methodologies import Band, Methodology
from accounting.numbers import plain, present

CHECK_VERSION = "checks-2026.1"
ZERO = Decimal(0)
#: Stored and recalculated figures must agree within this many tonnes (the examples' tolerance; PostgreSQL
#: stores the exact figures, SQLite in the embedded mode binary floats of about 15 digits).
AGREEMENT = Decimal("0.000001")
COALS = frozenset(
    {
        "anthracite",
        "bituminous_coal",
        "lignite",
        "washed_coal",
        "other_washed_coal",
        "briquettes",
        "coking_coal",
        "sub_bituminous_coal",
    }
)
GASES = frozenset(
    {"natural_gas", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas", "refinery_gas"}
)
#: Line kinds each sector's report must contain (any one of each group), with what the group means.
REQUIRED = {
    "cement": [
        ({"clinker_carbonate", "clinker_default"}, "clinker process emissions"),
        ({"fuel_combustion"}, "fuel combustion"),
    ],
    "steel": [
        ({"fuel_combustion"}, "fuel combustion"),
        ({"carbonate", "electrode", "carbon_input", "carbon_mass_balance"}, "process emissions"),
    ],
    "aluminium": [({"anode_consumption"}, "anode consumption"), ({"anode_effect"}, "anode effects (PFCs)")],
}
DEFAULT_SHARE_WARNING = Decimal("0.5")
MONTHLY_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    detail: str
    pointer: str = ""
    line_ref: str = ""
    value: str = ""
    expected: str = ""


@dataclass(frozen=True)
class StoredLine:
    co2e: Decimal
    co2: Decimal
    cf4: Decimal
    c2f6: Decimal


@dataclass
class CheckInput:
    sector: str
    year: int
    methodology: Methodology
    lines: list[dict[str, Any]]
    calculation: Calculation
    stored_lines: list[StoredLine]
    stored_totals: dict[str, Any]
    previous_intensity: Decimal | None = None
    previous_year: int | None = None
    monthly_direct: Decimal | None = None
    monthly_reports: int = 0
    peer_band: tuple[Decimal, Decimal] | None = None
    derived: dict[str, Any] = field(default_factory=dict)


def _band(data: CheckInput, name: str) -> Band | None:
    band = data.methodology.section("plausibility").get(name)
    return band if isinstance(band, Band) else None


def _expected(band: Band) -> str:
    return f"{plain(band.low)} to {plain(band.high)} {band.unit}"


def _parameter(line: LineResult, name: str) -> Decimal | None:
    for parameter in line.parameters:
        if parameter.name == name:
            return parameter.value
    return None


def _product(data: CheckInput) -> tuple[str | None, Decimal]:
    product = data.methodology.product_for(data.sector)
    produced = sum(
        (line.production or ZERO for line in data.calculation.lines if line.product == product), ZERO
    )
    return product, produced


def _steel_route(data: CheckInput) -> str:
    fuels = {line.get("fuel") for line in data.lines if line.get("source") == "fuel_combustion"}
    has_electrodes = any(line.get("source") == "electrode" for line in data.lines)
    return "eaf" if has_electrodes and "coke" not in fuels else "bf_bof"


def _intensity_band(data: CheckInput) -> Band | None:
    name = {"cement": "cement_direct_intensity", "aluminium": "aluminium_direct_intensity"}.get(data.sector)
    if data.sector == "steel":
        name = f"{_steel_route(data)}_direct_intensity"
    return _band(data, name) if name else None


def _electricity_band(data: CheckInput) -> Band | None:
    if data.sector == "aluminium":
        return _band(data, "aluminium_electricity_intensity")
    if data.sector == "steel" and _steel_route(data) == "eaf":
        return _band(data, "eaf_electricity_intensity")
    return None


def _electricity_kwh(lines: list[LineResult]) -> Decimal:
    total = ZERO
    for line in lines:
        if line.source == "electricity" and line.co2e >= 0:
            total += (_parameter(line, "quantity") or ZERO) * 1000
    return total


def _pointer(index: int, name: str = "") -> str:
    return f"/lines/{index}/{name}" if name else f"/lines/{index}"


# -- the checks ------------------------------------------------------------------------------------------
def recalculation(data: CheckInput) -> Iterator[Finding]:
    """The frozen inputs recalculate, independently, to the stored figures (line by line and in total)."""
    for index, (result, stored) in enumerate(zip(data.calculation.lines, data.stored_lines, strict=True)):
        recalculated = present(result.co2e)
        if abs(result.co2e - stored.co2e) > AGREEMENT:
            yield Finding(
                "recalculation_mismatch",
                "error",
                "the stored figure differs from the recalculation",
                _pointer(index),
                result.ref,
                plain(stored.co2e),
                plain(recalculated),
            )
    stored_total = data.stored_totals.get("total")
    recalculated_total = plain(present(data.calculation.totals.total))
    if (
        stored_total is not None
        and abs(Decimal(str(stored_total)) - data.calculation.totals.total) > AGREEMENT
    ):
        yield Finding(
            "recalculation_mismatch",
            "error",
            "the stored total differs from the recalculation",
            "/totals/total",
            "",
            str(stored_total),
            recalculated_total,
        )


def completeness(data: CheckInput) -> Iterator[Finding]:
    """Every emission source group the sector's guideline requires is reported, and its production."""
    kinds = {line.source for line in data.calculation.lines}
    for group, meaning in REQUIRED.get(data.sector, []):
        if not kinds & group:
            yield Finding(
                "incomplete_sector",
                "error",
                f"no line reports {meaning} ({', '.join(sorted(group))})",
                "/lines",
                expected=" or ".join(sorted(group)),
            )
    product, produced = _product(data)
    if product and produced <= 0:
        yield Finding(
            "missing_production",
            "error",
            f"no production line gives the {product} output",
            "/lines",
            expected=f"production of {product}",
        )
    if "electricity" not in kinds:
        yield Finding("no_electricity_line", "warning", "no purchased electricity is reported", "/lines")


def plausibility(data: CheckInput) -> Iterator[Finding]:
    """Parameters and intensities inside the methodology's plausibility bands."""
    for index, line in enumerate(data.calculation.lines):
        probes: list[tuple[str, str, Decimal | None]] = []
        if line.source == "clinker_carbonate":
            clinker = _parameter(line, "clinker")
            ef = line.gases.get("CO2", ZERO) / clinker if clinker else None
            probes += [
                ("clinker_process_ef", "", ef),
                ("clinker_cao_fraction", "cao_fraction", _parameter(line, "cao_fraction")),
                ("clinker_mgo_fraction", "mgo_fraction", _parameter(line, "mgo_fraction")),
            ]
        elif line.source == "anode_consumption":
            probes.append(
                ("net_anode_consumption", "net_anode_consumption", _parameter(line, "net_anode_consumption"))
            )
        elif line.source == "anode_effect":
            probes.append(
                ("anode_effect_minutes", "anode_effect_minutes", _parameter(line, "anode_effect_minutes"))
            )
        elif line.source == "fuel_combustion":
            fuel = data.lines[index].get("fuel")
            ncv = _parameter(line, "ncv")
            if fuel in COALS and ncv is not None:
                probes.append(("coal_ncv", "ncv", ncv))
            elif fuel == "natural_gas" and ncv is not None:
                probes.append(("natural_gas_ncv", "ncv", ncv))
        for band_name, name, value in probes:
            band = _band(data, band_name)
            if band is None or value is None or band.low <= value <= band.high:
                continue
            yield Finding(
                f"implausible_{band_name}",
                "warning",
                f"{band_name.replace('_', ' ')} outside its band",
                _pointer(index, name),
                line.ref,
                plain(present(value, 6)),
                _expected(band),
            )
    yield from _intensity_findings(data)


def _intensity_findings(data: CheckInput) -> Iterator[Finding]:
    product, produced = _product(data)
    if not product or produced <= 0:
        return
    band = _intensity_band(data)
    intensity = data.calculation.totals.direct / produced
    data.derived["direct_intensity"] = intensity
    if band is not None and not band.low <= intensity <= band.high:
        yield Finding(
            "implausible_direct_intensity",
            "warning",
            f"direct emissions per tonne of {product} outside the sector band",
            "/totals/direct",
            "",
            plain(present(intensity, 6)),
            _expected(band),
        )
    if data.peer_band is not None and not data.peer_band[0] <= intensity <= data.peer_band[1]:
        low, high = data.peer_band
        yield Finding(
            "outside_peer_band",
            "info",
            "direct intensity outside the range of the sector's facilities",
            "/totals/direct",
            "",
            plain(present(intensity, 6)),
            f"{plain(present(low, 6))} to {plain(present(high, 6))} t/t",
        )
    electricity_band = _electricity_band(data)
    if electricity_band is not None:
        kwh = _electricity_kwh(data.calculation.lines) / produced
        if not electricity_band.low <= kwh <= electricity_band.high:
            yield Finding(
                "implausible_electricity_intensity",
                "warning",
                f"electricity per tonne of {product} outside the sector band",
                "/lines",
                "",
                plain(present(kwh, 3)),
                _expected(electricity_band),
            )


def unit_slips(data: CheckInput) -> Iterator[Finding]:
    """Figures that become plausible when a classic unit slip is undone: gas metered in Nm3 entered as
    10^4 Nm3 (or back), kWh entered as MWh (or back), a percentage entered as a fraction."""
    product, produced = _product(data)
    lines = data.calculation.lines
    if product and produced > 0:
        band = _intensity_band(data)
        direct = data.calculation.totals.direct
        if band is not None and not band.low <= direct / produced <= band.high:
            for index, line in enumerate(lines):
                if line.source != "fuel_combustion" or data.lines[index].get("fuel") not in GASES:
                    continue
                for factor, slip in (
                    (Decimal("1e-4"), "Nm3 entered as 10^4 Nm3"),
                    (Decimal("1e4"), "10^4 Nm3 entered as Nm3"),
                ):
                    corrected = (direct - line.co2e + line.co2e * factor) / produced
                    if band.low <= corrected <= band.high:
                        yield Finding(
                            "unit_slip_gas_volume",
                            "error",
                            f"gas quantity looks like {slip}",
                            _pointer(index, "quantity"),
                            line.ref,
                            plain(present(_parameter(line, "quantity") or ZERO, 6)),
                            _expected(band),
                        )
        electricity_band = _electricity_band(data)
        if electricity_band is not None:
            kwh = _electricity_kwh(lines)
            if kwh and not electricity_band.low <= kwh / produced <= electricity_band.high:
                for index, line in enumerate(lines):
                    if line.source != "electricity":
                        continue
                    own = (_parameter(line, "quantity") or ZERO) * 1000
                    for factor, slip in (
                        (Decimal("1e-3"), "kWh entered as MWh"),
                        (Decimal("1e3"), "MWh entered as kWh"),
                    ):
                        if (
                            electricity_band.low
                            <= (kwh - own + own * factor) / produced
                            <= electricity_band.high
                        ):
                            yield Finding(
                                "unit_slip_electricity",
                                "error",
                                f"electricity looks like {slip}",
                                _pointer(index, "quantity"),
                                line.ref,
                                plain(present(own, 3)) + " kWh",
                                _expected(electricity_band),
                            )
    for index, line in enumerate(lines):
        if line.source != "clinker_carbonate":
            continue
        for name, band_name in (
            ("cao_fraction", "clinker_cao_fraction"),
            ("mgo_fraction", "clinker_mgo_fraction"),
        ):
            band, value = _band(data, band_name), _parameter(line, name)
            if (
                band
                and value is not None
                and not band.low <= value <= band.high
                and band.low <= value * 100 <= band.high
            ):
                yield Finding(
                    "unit_slip_percent",
                    "error",
                    f"{name} looks like a percentage entered as a fraction",
                    _pointer(index, name),
                    line.ref,
                    plain(value),
                    _expected(band),
                )


def year_on_year(data: CheckInput) -> Iterator[Finding]:
    """Direct intensity against the facility's last verified report."""
    band = _band(data, "year_on_year_intensity_change")
    _, produced = _product(data)
    if band is None or data.previous_intensity is None or not data.previous_intensity or produced <= 0:
        return
    change = (
        (data.calculation.totals.direct / produced - data.previous_intensity) / data.previous_intensity * 100
    )
    if not band.low <= change <= band.high:
        yield Finding(
            "year_on_year_change",
            "warning",
            f"direct intensity changed by {plain(present(change, 1))} % against {data.previous_year}",
            "/totals/direct",
            "",
            plain(present(change, 2)) + " %",
            _expected(band),
        )


def monthly_consistency(data: CheckInput) -> Iterator[Finding]:
    """Monthly lines cover the year, and monthly reports add up to what the annual report claims."""
    months: dict[tuple[str, str], set[int]] = defaultdict(set)
    first: dict[tuple[str, str], int] = {}
    for index, (line, result) in enumerate(zip(data.lines, data.calculation.lines, strict=True)):
        if result.month is None:
            continue
        key = (result.source, str(line.get("fuel") or line.get("material") or line.get("product") or ""))
        months[key].add(result.month)
        first.setdefault(key, index)
    for key, covered in months.items():
        if len(covered) < 12:
            missing = sorted(set(range(1, 13)) - covered)
            yield Finding(
                "monthly_lines_incomplete",
                "warning",
                f"monthly {key[0]} {key[1]} lines cover {len(covered)} of 12 months",
                _pointer(first[key], "month"),
                "",
                ", ".join(map(str, missing)),
                "months 1-12",
            )
    if data.monthly_direct is not None and data.monthly_reports:
        annual = data.calculation.totals.direct
        if annual and abs(data.monthly_direct - annual) / abs(annual) > MONTHLY_TOLERANCE:
            yield Finding(
                "monthly_annual_mismatch",
                "warning",
                f"{data.monthly_reports} monthly report(s) add up to a different direct total",
                "/totals/direct",
                "",
                plain(present(data.monthly_direct)),
                plain(present(annual)),
            )


def default_share(data: CheckInput) -> Iterator[Finding]:
    """How much of the total rests on methodology defaults instead of measured parameters."""
    totals = data.calculation.totals
    if totals.total <= 0 or not totals.default_co2e:
        return
    share = totals.default_co2e / totals.total
    severity = "warning" if share > DEFAULT_SHARE_WARNING else "info"
    yield Finding(
        "default_share",
        severity,
        "share of emissions resting on default parameters",
        "/totals",
        "",
        plain(present(share * 100, 1)) + " %",
        f"at most {plain(DEFAULT_SHARE_WARNING * 100)} %",
    )


CHECKS: list[Callable[[CheckInput], Iterator[Finding]]] = [
    recalculation,
    completeness,
    plausibility,
    unit_slips,
    year_on_year,
    monthly_consistency,
    default_share,
]


def run_checks(data: CheckInput, progress: Callable[[int], None] | None = None) -> list[Finding]:
    """Every check, in order; ``progress`` is told the percentage done after each."""
    findings: list[Finding] = []
    for number, check in enumerate(CHECKS, start=1):
        findings.extend(check(data))
        if progress is not None:
            progress(number * 100 // len(CHECKS))
    return findings
