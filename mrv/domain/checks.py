"""Automated verification checks: pure functions over a frozen revision and what is known about its facility.

Each check yields findings ``{code, severity, detail, pointer, line_ref, value, expected}``, where
``value`` is the figure found and ``expected`` what that figure should be (the band, the limit, the
figure once the suspected slip is undone, the line that is missing). Two kinds of bounds come from the
methodology bundle, versioned data, never from code:

* ``[physical_limits]``: what no facility can reach (an intensity per tonne of product, a quantity on
  one line, a calorific value, anode consumption below the stoichiometric minimum). A figure beyond
  them is an **error**: the report cannot be verified until the operator corrects it. Limits are
  about physics, not about the calculation, so a report stored under an older methodology version is
  held to the limits of the **latest** version of the same methodology code (an older version
  published before the limits existed has none of its own; a later correction of a limit applies to
  every report still to be verified).
* ``[plausibility]``: what is usual. A figure outside a band is a **warning**, as are the other
  heuristic signals (a suspected unit slip, the peer band, the year-on-year change, monthly figures):
  a positive opinion needs the verifier to answer each warning (see ``mrv.services.verification``).
  Bands are those of the report's own methodology version.

Errors are also a stored figure that does not recalculate, and a report without what its sector
requires. Intensities are compared on gross direct emissions: what the facility burns and calcines
per tonne of product, before exported fuels and carbon fixed in products are subtracted (an export is
a transfer, not a lower intensity). ``CHECK_VERSION`` names this set of checks: a job is unique per
revision and check version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounting.engine import Calculation, LineResult
from accounting.lines import Parameter
from accounting.methodologies import Band, Methodology, latest
from accounting.numbers import plain, present
from accounting.registry import DIRECT_CATEGORIES
from mrv.domain.plans import Plan

CHECK_VERSION = "checks-2026.2"
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
#: The parameter that sizes a line (its emissions are proportional to it), by line kind's preference.
SIZE_PARAMETERS = ("quantity", "clinker", "raw_meal", "aluminium_production")
#: Spellings of each canonical quantity unit and their scale to it: what a unit slip confuses.
SCALES: dict[str, dict[str, Decimal]] = {
    "t": {
        "g": Decimal("1e-6"),
        "kg": Decimal("1e-3"),
        "t": Decimal(1),
        "kt": Decimal(1000),
        "Mt": Decimal("1e6"),
    },
    "10^4 Nm3": {"Nm3": Decimal("1e-4"), "10^4 Nm3": Decimal(1)},
    "MWh": {"kWh": Decimal("1e-3"), "MWh": Decimal(1), "GWh": Decimal(1000)},
}
#: The slips looked for on each canonical unit: factors that undo them (figure × factor).
SLIP_FACTORS: dict[str, tuple[Decimal, ...]] = {
    "t": (Decimal("1e-3"), Decimal(1000)),
    "10^4 Nm3": (Decimal("1e-4"), Decimal("1e4")),
    "MWh": (Decimal("1e-3"), Decimal(1000)),
}
SLIP_CODES = {"t": "unit_slip_mass", "10^4 Nm3": "unit_slip_gas_volume", "MWh": "unit_slip_electricity"}
#: ``[physical_limits]`` entries that bound one figure of a line, by the figure's canonical unit.
LINE_LIMITS = {"t": "line_mass", "10^4 Nm3": "line_gas_volume", "MWh": "line_electricity", "GJ": "line_heat"}


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
    #: the approved monitoring plan in force for the report's period (None: no plan, no plan checks)
    plan: Plan | None = None
    #: an annual report: the activity of the facility's accepted monthly deposits of the same year
    accepted_monthly: AcceptedMonthly | None = None


@dataclass(frozen=True)
class Activity:
    """What sizes one line: its activity parameter (``quantity``, ``clinker``...) in the engine's unit."""

    name: str
    unit: str
    value: Decimal


@dataclass
class AcceptedMonthly:
    """The activity of the accepted monthly reports of an annual report's facility and year: the months
    accepted, and per ``(ref, source)`` of their lines the sum of each line's :class:`Activity`."""

    months: list[int]
    sums: dict[tuple[str, str], Activity]


def activity_of(line: LineResult) -> Activity | None:
    """The parameter that sizes ``line`` (the first of :data:`SIZE_PARAMETERS` it has), after the
    engine's unit conversion; None for a line without one."""
    for name in SIZE_PARAMETERS:
        for parameter in line.parameters:
            if parameter.name == name:
                return Activity(name, parameter.unit, parameter.value)
    return None


def add_activity(sums: dict[tuple[str, str], Activity], lines: list[LineResult]) -> None:
    """Add each line's activity to ``sums`` under its ``(ref, source)``: how the monthly sums are made.
    A line whose parameter or unit differs from what the sum holds (a line kind changed its method
    between months) is left out of it."""
    for line in lines:
        found = activity_of(line)
        if found is None:
            continue
        key = (line.ref, line.source)
        held = sums.get(key)
        if held is None:
            sums[key] = found
        elif (held.name, held.unit) == (found.name, found.unit):
            sums[key] = Activity(held.name, held.unit, held.value + found.value)


def _band(data: CheckInput, name: str) -> Band | None:
    band = data.methodology.section("plausibility").get(name)
    return band if isinstance(band, Band) else None


def _limit(data: CheckInput, name: str) -> Band | None:
    """A physical limit: from the latest version of the report's methodology code (see the module)."""
    limit = latest(data.methodology.code).section("physical_limits").get(name)
    return limit if isinstance(limit, Band) else None


def _expected(band: Band) -> str:
    unit = "" if band.unit == "1" else f" {band.unit}"
    return f"{plain(band.low)} to {plain(band.high)}{unit}"


def _within(band: Band, value: Decimal) -> bool:
    return band.low <= value <= band.high


def _limit_text(limit: Band) -> str:
    if limit.low == 0:
        return f"at most {plain(limit.high)} {limit.unit} (physical limit)"
    return f"{plain(limit.low)} to {plain(limit.high)} {limit.unit} (physical limit)"


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


def _gross_direct(data: CheckInput) -> Decimal:
    """Direct emissions before exported fuels and carbon fixed in products are subtracted."""
    return sum(
        (r.co2e for r in data.calculation.lines if r.category in DIRECT_CATEGORIES and r.co2e > 0), ZERO
    )


def _exported(data: CheckInput, index: int) -> bool:
    return data.lines[index].get("direction") == "exported"


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
    """Purchased electricity in kWh (exported electricity is not consumed by the process)."""
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
        if abs(result.co2e - stored.co2e) > AGREEMENT:
            yield Finding(
                "recalculation_mismatch",
                "error",
                "the stored figure differs from the recalculation",
                _pointer(index),
                result.ref,
                plain(present(stored.co2e)) + " tCO2e",
                plain(present(result.co2e)) + " tCO2e (recalculated)",
            )
    stored_total = data.stored_totals.get("total")
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
            f"{stored_total} tCO2e",
            plain(present(data.calculation.totals.total)) + " tCO2e (recalculated)",
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
                expected="a line of kind " + " or ".join(sorted(group)),
            )
    product, produced = _product(data)
    if product and produced <= 0:
        yield Finding(
            "missing_production",
            "error",
            f"no production line gives the {product} output",
            "/lines",
            value="0 t",
            expected=f"a production line of {product} with its quantity",
        )
    if "electricity" not in kinds:
        # Indirect emissions are outside the compliance scope, and a plant on its own power (its fuel
        # is reported) buys none: pointed out, not a warning to answer.
        yield Finding(
            "no_electricity_line",
            "info",
            "no purchased electricity is reported",
            "/lines",
            expected="an electricity line, unless the plant runs on its own power",
        )


def physical_limits(data: CheckInput) -> Iterator[Finding]:
    """Figures beyond what any facility can physically reach (``[physical_limits]``): errors."""

    def beyond(name: str, value: Decimal | None) -> Band | None:
        limit = _limit(data, name)
        return limit if limit is not None and value is not None and not _within(limit, value) else None

    def finding(
        name: str, limit: Band, what: str, pointer: str, ref: str, value: Decimal, expected: str = ""
    ) -> Finding:
        return Finding(
            f"physical_limit_{name}",
            "error",
            f"{what} is beyond what any facility can physically reach",
            pointer,
            ref,
            f"{plain(present(value, 6))} {limit.unit}",
            expected or _limit_text(limit),
        )

    for index, line in enumerate(data.calculation.lines):
        fuel = data.lines[index].get("fuel") if line.source == "fuel_combustion" else None
        quantity, ncv = _parameter(line, "quantity"), _parameter(line, "ncv")
        # A fuel's quantity is bounded through its energy when its NCV is known, else through its unit.
        energy = quantity * ncv if fuel is not None and quantity is not None and ncv is not None else None
        limit = beyond("fuel_energy_per_line", energy)
        if limit is not None and energy is not None:
            yield finding(
                "fuel_energy_per_line",
                limit,
                f"the energy of this {fuel} line",
                _pointer(index, "quantity"),
                line.ref,
                energy,
            )
        for parameter in line.parameters:
            name = LINE_LIMITS.get(parameter.unit)
            if name is None or (energy is not None and parameter.name == "quantity"):
                continue
            limit = beyond(name, parameter.value)
            if limit is not None:
                yield finding(
                    name,
                    limit,
                    f"{parameter.name.replace('_', ' ')} on one line",
                    _pointer(index, parameter.name),
                    line.ref,
                    parameter.value,
                )
        probes: list[tuple[str, str]] = []
        if fuel is not None and ncv is not None:
            if fuel in COALS:
                probes.append(("coal_ncv", "ncv"))
            elif fuel == "natural_gas":
                probes.append(("natural_gas_ncv", "ncv"))
            elif next((p.unit for p in line.parameters if p.name == "ncv"), "") == "GJ/t":
                probes.append(("fuel_ncv_per_mass", "ncv"))
        elif line.source == "anode_consumption":
            probes.append(("net_anode_consumption", "net_anode_consumption"))
        elif line.source == "anode_effect":
            probes.append(("anode_effect_minutes", "anode_effect_minutes"))
        for name, parameter_name in probes:
            value = _parameter(line, parameter_name)
            limit = beyond(name, value)
            if limit is not None and value is not None:
                what = f"{parameter_name.replace('_', ' ')}" + (f" of {fuel}" if fuel else "")
                yield finding(name, limit, what, _pointer(index, parameter_name), line.ref, value)
    product, produced = _product(data)
    if not product or produced <= 0:
        return
    limit = beyond(f"{data.sector}_production", produced)
    if limit is not None:
        first = next(i for i, line in enumerate(data.calculation.lines) if line.product == product)
        yield finding(
            f"{data.sector}_production",
            limit,
            f"the {product} output of one facility",
            _pointer(first, "quantity"),
            "",
            produced,
        )
    # The upper limit bounds what is burnt and calcined (gross); the lower one what is left once exports
    # and carbon fixed in products are subtracted (net): what leaves cannot exceed what came in.
    gross, net = _gross_direct(data) / produced, data.calculation.totals.direct / produced
    limit = _limit(data, f"{data.sector}_direct_intensity")
    if limit is not None and gross > limit.high:
        yield finding(
            f"{data.sector}_direct_intensity",
            limit,
            f"direct emissions per tonne of {product} (before exports)",
            "/totals/direct",
            "",
            gross,
        )
    elif limit is not None and net < limit.low:
        yield finding(
            f"{data.sector}_direct_intensity",
            limit,
            f"direct emissions per tonne of {product} after exports and carbon fixed in products",
            "/totals/direct",
            "",
            net,
            f"at least {plain(limit.low)} {limit.unit}: more cannot leave than was burnt (physical limit)",
        )
    kwh = _electricity_kwh(data.calculation.lines)
    limit = beyond(f"{data.sector}_electricity_intensity", kwh / produced)
    if kwh and limit is not None:
        yield finding(
            f"{data.sector}_electricity_intensity",
            limit,
            f"electricity per tonne of {product}",
            "/lines",
            "",
            kwh / produced,
        )


def plausibility(data: CheckInput) -> Iterator[Finding]:
    """Parameters and intensities inside the methodology's plausibility bands (a figure already beyond
    a physical limit is an error of :func:`physical_limits` instead)."""
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
            if band is None or value is None or _within(band, value):
                continue
            limit = _limit(data, band_name)
            if limit is not None and not _within(limit, value):
                continue
            yield Finding(
                f"implausible_{band_name}",
                "warning",
                f"{band_name.replace('_', ' ')} outside its band",
                _pointer(index, name),
                line.ref,
                plain(present(value, 6)) + ("" if band.unit == "1" else f" {band.unit}"),
                _expected(band),
            )
    yield from _intensity_findings(data)


def _intensity_findings(data: CheckInput) -> Iterator[Finding]:
    product, produced = _product(data)
    if not product or produced <= 0:
        return
    band = _intensity_band(data)
    gross = _gross_direct(data) / produced
    intensity = data.calculation.totals.direct / produced
    data.derived["direct_intensity"] = intensity
    limit = _limit(data, f"{data.sector}_direct_intensity")
    physical = limit is None or (gross <= limit.high and intensity >= limit.low)
    if band is not None and physical and not _within(band, gross):
        yield Finding(
            "implausible_direct_intensity",
            "warning",
            f"direct emissions per tonne of {product} (before exports) outside the sector band",
            "/totals/direct",
            "",
            f"{plain(present(gross, 6))} {band.unit}",
            _expected(band),
        )
    if data.peer_band is not None and not data.peer_band[0] <= intensity <= data.peer_band[1]:
        low, high = data.peer_band
        yield Finding(
            "outside_peer_band",
            "warning",
            "direct intensity outside the 5-95 % range of the sector's verified facilities",
            "/totals/direct",
            "",
            f"{plain(present(intensity, 6))} t/t",
            f"{plain(present(low, 6))} to {plain(present(high, 6))} t/t",
        )
    electricity_band = _electricity_band(data)
    kwh = _electricity_kwh(data.calculation.lines) / produced
    limit = _limit(data, f"{data.sector}_electricity_intensity")
    physical = limit is None or _within(limit, kwh)
    # No purchased electricity at all is the info finding of :func:`completeness`, not an intensity.
    if electricity_band is not None and kwh and physical and not _within(electricity_band, kwh):
        yield Finding(
            "implausible_electricity_intensity",
            "warning",
            f"electricity per tonne of {product} outside the sector band",
            "/lines",
            "",
            f"{plain(present(kwh, 3))} {electricity_band.unit}",
            _expected(electricity_band),
        )


def _slip(entered: str, canonical: str, factor: Decimal) -> str:
    """How a slip reads: ``kg entered as t`` when the spelling is known, else by how far it is off."""
    scales = SCALES[canonical]
    if entered in scales:
        meant = scales[entered] * factor
        for spelling, scale in scales.items():
            if scale == meant:
                return f"{spelling} entered as {entered}"
    size = plain(factor if factor > 1 else 1 / factor)
    return f"{size} times too {'small' if factor > 1 else 'large'}"


def _entered_unit(raw: dict[str, Any], name: str, canonical: str) -> str:
    field_value = raw.get(name)
    unit = field_value.get("unit") if isinstance(field_value, dict) else None
    return " ".join(unit.split()) if isinstance(unit, str) else canonical


def unit_slips(data: CheckInput) -> Iterator[Finding]:
    """Figures that become plausible when a classic unit slip is undone, on every quantity that sizes a
    line (mass in kg/t/kt, gas in Nm3/10^4 Nm3, electricity in kWh/MWh, the production itself) and on
    fractions (a percentage entered as a fraction). Warnings: a slip is a guess.

    When the direct intensity (or the electricity intensity) is outside its band, each line is tried
    with each slip undone; of those that bring the intensity into the band, the one closest to the
    band's middle is reported (one slip explains the figure; several guesses would only be noise).
    Exported lines are not candidates: they are subtracted, not burnt, so undoing a "slip" on them
    would only hide emissions.
    """
    product, produced = _product(data)
    lines = data.calculation.lines
    if product and produced > 0:
        band = _intensity_band(data)
        gross = _gross_direct(data)
        if band is not None and not _within(band, gross / produced):
            candidates: list[_Slip] = []
            for index, line in enumerate(lines):
                producing = line.product == product and bool(line.production)
                emitting = line.category in DIRECT_CATEGORIES and line.co2e > 0
                size = _size(line)
                if _exported(data, index) or not (producing or emitting) or size is None:
                    continue
                for factor in SLIP_FACTORS[size.unit]:
                    if producing:
                        corrected = gross / (produced - size.value + size.value * factor)
                    else:
                        corrected = (gross - line.co2e + line.co2e * factor) / produced
                    candidates.append(_Slip(index, size.name, size.unit, size.value, factor, corrected))
            yield from _most_likely(data, candidates, band, product)
        electricity_band = _electricity_band(data)
        kwh = _electricity_kwh(lines)
        if electricity_band is not None and kwh and not _within(electricity_band, kwh / produced):
            candidates = []
            for index, line in enumerate(lines):
                if line.source != "electricity" or _exported(data, index) or line.co2e < 0:
                    continue
                own = (_parameter(line, "quantity") or ZERO) * 1000
                for factor in SLIP_FACTORS["MWh"]:
                    corrected = (kwh - own + own * factor) / produced
                    candidates.append(_Slip(index, "quantity", "MWh", own / 1000, factor, corrected))
            yield from _most_likely(data, candidates, electricity_band, product)
    for index, line in enumerate(lines):
        if line.source != "clinker_carbonate":
            continue
        for name, band_name in (
            ("cao_fraction", "clinker_cao_fraction"),
            ("mgo_fraction", "clinker_mgo_fraction"),
        ):
            band, value = _band(data, band_name), _parameter(line, name)
            if band and value is not None and not _within(band, value) and _within(band, value * 100):
                yield Finding(
                    "unit_slip_percent",
                    "warning",
                    f"{name} looks like a percentage entered as a fraction",
                    _pointer(index, name),
                    line.ref,
                    plain(value),
                    f"{plain(present(value * 100, 6))} ({plain(present(value * 10000, 4))} %), "
                    f"inside {_expected(band)}",
                )


@dataclass(frozen=True)
class _Slip:
    """One guess: line ``index``'s ``name`` (``value`` in ``unit``) times ``factor`` gives ``corrected``."""

    index: int
    name: str
    unit: str
    value: Decimal
    factor: Decimal
    corrected: Decimal


def _size(line: LineResult) -> Parameter | None:
    """The parameter a line's emissions (or production) are proportional to, when a slip can hit it."""
    for name in SIZE_PARAMETERS:
        for parameter in line.parameters:
            if parameter.name == name and parameter.unit in SLIP_FACTORS:
                return parameter
    return None


def _most_likely(data: CheckInput, candidates: list[_Slip], band: Band, product: str) -> Iterator[Finding]:
    middle = (band.low + band.high) / 2
    fitting = [c for c in candidates if _within(band, c.corrected)]
    if not fitting:
        return
    slip = min(fitting, key=lambda c: (abs(c.corrected - middle), c.index))
    line = data.calculation.lines[slip.index]
    how = _slip(_entered_unit(data.lines[slip.index], slip.name, slip.unit), slip.unit, slip.factor)
    if slip.unit == "MWh":
        what = "electricity"
    elif line.product == product:
        what = f"the {product} output"
    else:
        what = f"the {slip.name.replace('_', ' ')}"
    yield Finding(
        SLIP_CODES[slip.unit],
        "warning",
        f"{what} looks like {how}",
        _pointer(slip.index, slip.name),
        line.ref,
        f"{plain(present(slip.value, 6))} {slip.unit}",
        f"{plain(present(slip.value * slip.factor, 6))} {slip.unit}, giving "
        f"{plain(present(slip.corrected, 3))} {band.unit} (band {_expected(band)})",
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
            f"a change of {_expected(band)} against {data.previous_year}",
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
                "missing months " + ", ".join(map(str, missing)),
                "a line for each month 1-12",
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
                plain(present(data.monthly_direct)) + " tCO2e",
                f"{plain(present(annual))} tCO2e (the annual direct total, within "
                f"{plain(MONTHLY_TOLERANCE * 100)} %)",
            )


#: The months a year of deposits has: the annual lines are compared with the sum once all are accepted.
MONTHS = 12
#: Activity figures are compared at the precision every figure is presented at (6 decimal places).
ACTIVITY_PLACES = 6


def monthly_sum(data: CheckInput) -> Iterator[Finding]:
    """An annual report's lines against the sum of the facility's **accepted** monthly deposits of the
    same year (the competent authority's review, SPEC §8), per line ``(ref, source)``: the activity
    (quantity of fuel, clinker, electricity... in the engine's unit, after unit conversion) of the
    annual line equals the sum of the monthly lines' to 6 decimal places, or ``monthly_sum_mismatch``
    (a warning) gives both figures. Lines of the monthly reports that the annual report lacks are
    mismatches too. Until all 12 months are accepted, ``monthly_sum_incomplete`` (info) says which are."""
    accepted = data.accepted_monthly
    if accepted is None or not accepted.months:
        return
    count = len(accepted.months)
    if count < MONTHS:
        yield Finding(
            "monthly_sum_incomplete",
            "info",
            f"{count} of 12 monthly reports accepted: the annual lines are compared with their sum once all"
            " 12 are",
            "/lines",
            "",
            "accepted months " + ", ".join(map(str, accepted.months)),
            "12 accepted monthly reports",
        )
        return
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(data.calculation.lines):
        annual = activity_of(line)
        key = (line.ref, line.source)
        if annual is None:
            continue
        seen.add(key)
        monthly = accepted.sums.get(key)
        total = monthly.value if monthly is not None and monthly.unit == annual.unit else ZERO
        if present(annual.value, ACTIVITY_PLACES) != present(total, ACTIVITY_PLACES):
            yield Finding(
                "monthly_sum_mismatch",
                "warning",
                f"{annual.name} of {line.ref}: the annual line differs from the sum of the 12 accepted "
                "monthly reports",
                _pointer(index, annual.name),
                line.ref,
                f"{plain(present(annual.value, ACTIVITY_PLACES))} {annual.unit}",
                f"{plain(present(total, ACTIVITY_PLACES))} {annual.unit} (the sum of the 12 accepted monthly"
                " reports)",
            )
    for (ref, source), monthly in sorted(accepted.sums.items()):
        if (ref, source) not in seen and monthly.value:
            yield Finding(
                "monthly_sum_mismatch",
                "warning",
                f"the accepted monthly reports have a {source} line {ref}; the annual report has none",
                f"/monthly/{ref}",
                ref,
                "no line",
                f"{plain(present(monthly.value, ACTIVITY_PLACES))} {monthly.unit} (the sum of the 12 accepted"
                " monthly reports)",
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


#: The codes of :func:`plan_conformity`'s findings.
PLAN_CODES = ("source_not_in_plan", "plan_source_missing", "plan_deviation")


def plan_conformity(data: CheckInput) -> Iterator[Finding]:
    """The report against the monitoring plan in force for its period (each finding cites the plan
    version): a line whose ``ref`` the plan does not list, or lists under another line kind
    (``source_not_in_plan``); a plan source without any line (``plan_source_missing``); a parameter the
    plan says is measured but that the line leaves to the methodology's default (``plan_deviation``)."""
    plan = data.plan
    if plan is None:
        return
    planned = {source.ref: source for source in plan.sources}
    refs = {str(line.get("ref", "")) for line in data.lines}
    for index, (line, result) in enumerate(zip(data.lines, data.calculation.lines, strict=False)):
        ref = str(line.get("ref", ""))
        source = planned.get(ref)
        if source is None or source.source != result.source:
            yield Finding(
                "source_not_in_plan",
                "warning",
                f"{plan.label} lists no {result.source} source {ref!r}",
                _pointer(index, "ref"),
                ref,
                f"{result.source} {ref}",
                f"a source of {plan.label}"
                + (f" ({ref!r} is planned as {source.source})" if source is not None else ""),
            )
            continue
        origins = {parameter.name: parameter.origin for parameter in result.parameters}
        for name, determination in source.determinations.items():
            if determination == "measured" and origins.get(name) == "default":
                yield Finding(
                    "plan_deviation",
                    "warning",
                    f"{plan.label} says {name} of {ref!r} is measured; the line leaves it to the default",
                    _pointer(index, name),
                    ref,
                    "default",
                    f"measured ({plan.label})",
                )
    for source in plan.sources:
        if source.ref not in refs:
            yield Finding(
                "plan_source_missing",
                "warning",
                f"{plan.label} lists {source.source} source {source.ref!r}; the report has no line for it",
                f"/plan/sources/{source.ref}",
                source.ref,
                "no line",
                f"a {source.source} line {source.ref!r} ({plan.label})",
            )


CHECKS: list[Callable[[CheckInput], Iterator[Finding]]] = [
    recalculation,
    completeness,
    physical_limits,
    plausibility,
    unit_slips,
    year_on_year,
    monthly_consistency,
    monthly_sum,
    default_share,
    plan_conformity,
]


#: The checks a draft runs before it is submitted (``GET /api/v1/reports/{id}/checks/``, an import's dry
#: run): those that need no other report and no stored figure (a draft's figures are recalculated on
#: every write, so there is nothing to recalculate against; the year on year, the monthly reports' sum
#: and the peer band wait for the verification job).
DRAFT_CHECKS: list[Callable[[CheckInput], Iterator[Finding]]] = [
    completeness,
    physical_limits,
    plausibility,
    unit_slips,
    monthly_consistency,
    default_share,
    plan_conformity,
]


def draft_input(
    *, sector: str, year: int, lines: list[dict[str, Any]], calculation: Calculation
) -> CheckInput:
    """The input of :data:`DRAFT_CHECKS` for a draft's ``lines`` and their ``calculation``."""
    return CheckInput(
        sector=sector,
        year=year,
        methodology=calculation.methodology,
        lines=lines,
        calculation=calculation,
        stored_lines=[],
        stored_totals={},
    )


def run_draft_checks(data: CheckInput) -> list[Finding]:
    """:data:`DRAFT_CHECKS`, in order."""
    return [finding for check in DRAFT_CHECKS for finding in check(data)]


def run_checks(data: CheckInput, progress: Callable[[int], None] | None = None) -> list[Finding]:
    """Every check, in order; ``progress`` is told the percentage done after each."""
    findings: list[Finding] = []
    for number, check in enumerate(CHECKS, start=1):
        findings.extend(check(data))
        if progress is not None:
            progress(number * 100 // len(CHECKS))
    return findings
