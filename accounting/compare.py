"""One set of activity lines under several methodologies, side by side (SPEC §9).

``compare({methodologies: [codes], sector?, year?, lines})`` calculates the lines once per
methodology (a code is its latest version, ``code@version`` a pinned one) and puts, per line, the
figures side by side with the parameters that differ and why: measured on the line (the same under
every regime), or each regime's default with its table and confidence, or not used by the method the
regime applies to that line kind. A line that states its uncertainty shows it (±% at 95 %) under each
methodology, and each methodology's totals their propagated uncertainty (:mod:`accounting.uncertainty`):
the line's relative uncertainty is the same everywhere, the totals' differ as the lines' weights do.
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounting.engine import calculate
from accounting.errors import FieldError, InvalidInput, UnknownMethodology
from accounting.methodologies import Methodology, get
from accounting.numbers import present

MAX_METHODOLOGIES = 6


def _methodologies(raw: Any) -> list[Methodology]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput(
            "the request is invalid",
            [
                FieldError(
                    "/methodologies",
                    "required",
                    "give a list of methodology codes, e.g. "
                    '["cn-mee-2024", "eu-mrr-2018"] (code@version pins a version)',
                )
            ],
        )
    if len(raw) > MAX_METHODOLOGIES:
        raise InvalidInput(
            "the request is invalid",
            [FieldError("/methodologies", "too_many", f"at most {MAX_METHODOLOGIES} methodologies at once")],
        )
    found: list[Methodology] = []
    errors: list[FieldError] = []
    for index, code in enumerate(raw):
        pointer = f"/methodologies/{index}"
        if not isinstance(code, str):
            errors.append(FieldError(pointer, "invalid", "a methodology code is a string"))
            continue
        try:
            methodology = get(code)
        except UnknownMethodology as error:
            errors.append(FieldError(pointer, "unknown_methodology", error.detail))
            continue
        if any(m.key == methodology.key for m in found):
            errors.append(FieldError(pointer, "duplicate", f"{methodology.key} is listed twice"))
            continue
        found.append(methodology)
    if errors:
        raise InvalidInput("the request is invalid", errors)
    return found


def _why(methodology: Methodology, entry: Mapping[str, Any] | None, method: str) -> str:
    if entry is None:
        return f"{methodology.key}: not used by its method {method}"
    if entry["origin"] == "measured":
        return f"{methodology.key}: measured (given on the line)"
    return f"{methodology.key}: default, {entry.get('table', '')} [{entry.get('confidence', '')}]"


def _differences(
    keys: list[str], lines: list[Mapping[str, Any]], by_key: dict[str, Methodology]
) -> list[dict[str, Any]]:
    names: list[str] = []
    for line in lines:
        names.extend(name for name in line["parameters"] if name not in names)
    differences = []
    for name in names:
        entries = [line["parameters"].get(name) for line in lines]
        shown = {(e["value"], e["unit"], e["origin"]) if e else None for e in entries}
        if len(shown) == 1:
            continue
        differences.append(
            {
                "parameter": name,
                "values": {
                    key: (
                        None
                        if entry is None
                        else {
                            k: entry[k]
                            for k in ("value", "unit", "origin", "source", "table", "confidence")
                            if k in entry
                        }
                    )
                    for key, entry in zip(keys, entries, strict=True)
                },
                "why": [
                    _why(by_key[key], entry, line["method"])
                    for key, entry, line in zip(keys, entries, lines, strict=True)
                ],
            }
        )
    return differences


def _figures(line: Mapping[str, Any]) -> dict[str, Any]:
    """One methodology's figures for a line; its propagated uncertainty (±% at 95 %) when it states one."""
    figures = {key: line[key] for key in ("method", "category", "co2e", "gases", "origin")}
    if "uncertainty_percent" in line:
        figures["uncertainty_percent"] = line["uncertainty_percent"]
    return figures


def compare(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Calculate ``payload['lines']`` under each of ``payload['methodologies']``; see the module doc.

    Raises :class:`InvalidInput`: a bad list of methodologies (pointers into ``/methodologies``), or the
    lines refused by one or more of them (each error's detail names the methodology; pointers into
    ``/lines``).
    """
    if not isinstance(payload, Mapping):
        raise InvalidInput("the request is invalid", [FieldError("", "invalid", "the body is a JSON object")])
    chosen = _methodologies(payload.get("methodologies"))
    base = {key: value for key, value in payload.items() if key not in {"methodologies", "methodology"}}
    results: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for methodology in chosen:
        try:
            calculation = calculate(
                {**base, "methodology": methodology.code, "methodology_version": methodology.version}
            )
        except InvalidInput as error:
            errors.extend(
                FieldError(e.pointer, e.code, f"under {methodology.key}: {e.detail}") for e in error.errors
            )
            continue
        results.append(calculation.as_json())
    if errors:
        raise InvalidInput("the lines cannot be calculated under every methodology", errors)
    keys = [m.key for m in chosen]
    by_key = {m.key: m for m in chosen}
    lines = []
    for index, first in enumerate(results[0]["lines"]):
        side = [result["lines"][index] for result in results]
        lines.append(
            {
                "ref": first["ref"],
                "source": first["source"],
                "figures": {key: _figures(line) for key, line in zip(keys, side, strict=True)},
                "differences": _differences(keys, side, by_key),
            }
        )
    first_total = results[0]["totals"]["total"]
    totals = {
        key: {
            "direct": result["totals"]["direct"],
            "indirect": result["totals"]["indirect"],
            "total": result["totals"]["total"],
            "reported": {k: result["totals"]["reported"][k] for k in ("direct", "indirect", "total")},
            "default_share": result["totals"]["default_share"],
            "difference_from_first": present(result["totals"]["total"] - first_total),
            **{
                k: result["totals"][k]
                for k in ("uncertainty_percent", "uncertainty")
                if k in result["totals"]
            },
        }
        for key, result in zip(keys, results, strict=True)
    }
    return {
        "methodologies": [
            {
                "key": m.key,
                "code": m.code,
                "version": m.version,
                "c_to_co2": m.c_to_co2,
                "gwp": m.gwp_set,
                "rounding": {"places": m.rounding_places, "mode": m.rounding_mode},
            }
            for m in chosen
        ],
        "sector": results[0]["sector"],
        "year": results[0]["year"],
        "lines": lines,
        "totals": totals,
        "intensity": {key: result["intensity"] for key, result in zip(keys, results, strict=True)},
        "results": results,
    }


__all__ = ["compare"]
