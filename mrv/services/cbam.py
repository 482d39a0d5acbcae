"""CBAM process data carried by a report revision (SPEC §9): checked on every write of a draft.

Design: a revision of an annual report may carry a ``cbam`` JSON object, the body of
``POST /api/v1/cbam/embedded-emissions/`` without ``year`` (the report's year is the CBAM period):
``{installation?, methodology?, methodology_version?, processes: [...]}``. One dataset: a process may name
the report's own activity lines by their refs (``line_refs: ["kiln-coal", ...]``) instead of repeating them
in ``lines``; each line counts in one process at most, and CBAM calculates it under its own methodology
(``eu-mrr-2018`` unless named). The object is set on create or update of a draft (``cbam``; ``null``
removes it), checked by the same engine as the stateless endpoint (errors point into ``/cbam/...``, or at the
report's line a ``line_refs`` entry names, ``/lines/N/...``), checked again when the draft's lines change,
stored with its methodology version pinned (a later version never changes a stored report's figures),
copied by a revision, part of the submitted digest, and frozen with the revision (database trigger,
migration 0018). Without ``installation``, the facility is the installation (its name, country CN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from accounting import cbam as engine
from accounting.errors import FieldError, InvalidInput
from mrv.domain.canonical import jsonable
from mrv.models import Facility

#: The fields of a report's ``cbam`` object (the stateless body's without ``year``).
FIELDS = engine.TOP_LEVEL_FIELDS - {"year"}
_LINE_POINTER = re.compile(r"/processes/(\d+)/lines/(\d+)(.*)")


def _resolved(
    data: dict[str, Any], lines: Sequence[Any]
) -> tuple[dict[str, Any], dict[tuple[int, int], int], list[FieldError]]:
    """``data`` with every ``line_refs`` replaced by the report's lines it names; where each came from
    (process index, position) → report line index; the errors of the refs (pointers into ``data``)."""
    index_of = {
        line["ref"]: index
        for index, line in enumerate(lines)
        if isinstance(line, dict) and isinstance(line.get("ref"), str)
    }
    processes = data.get("processes")
    if not isinstance(processes, list):
        return data, {}, []
    errors: list[FieldError] = []
    origins: dict[tuple[int, int], int] = {}
    used: dict[str, int] = {}
    resolved: list[Any] = []
    for number, process in enumerate(processes):
        if not isinstance(process, dict) or "line_refs" not in process:
            resolved.append(process)
            continue
        pointer = f"/processes/{number}/line_refs"
        refs = process["line_refs"]
        if "lines" in process:
            errors.append(FieldError(pointer, "not_applicable", "give either lines or line_refs, not both"))
            continue
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            errors.append(
                FieldError(pointer, "invalid_type", "line_refs must be a list of refs of the report's lines")
            )
            continue
        chosen = []
        for position, ref in enumerate(refs):
            if ref not in index_of:
                errors.append(
                    FieldError(
                        f"{pointer}/{position}", "unknown_line", f"the report has no line with ref {ref!r}"
                    )
                )
            elif ref in used:
                errors.append(
                    FieldError(
                        f"{pointer}/{position}",
                        "duplicate",
                        f"line {ref!r} is already in process {used[ref]}: a line counts in one process",
                    )
                )
            else:
                used[ref] = number
                origins[(number, len(chosen))] = index_of[ref]
                chosen.append(lines[index_of[ref]])
        resolved.append({**{k: v for k, v in process.items() if k != "line_refs"}, "lines": chosen})
    return {**data, "processes": resolved}, origins, errors


def cbam_payload(*, facility: Facility, year: int, data: Any, lines: Sequence[Any] = ()) -> dict[str, Any]:
    """The stateless request body for stored ``data`` of a report of ``facility`` for ``year`` whose
    activity lines are ``lines`` (``line_refs`` resolved)."""
    body, _origins, _errors = _resolved(dict(data), lines)
    body.setdefault("installation", {"name": facility.name, "country": "CN"})
    return {**body, "year": year}


def _pointer(error: FieldError, origins: dict[tuple[int, int], int]) -> str:
    if error.pointer == "/year":
        return "/year"
    found = _LINE_POINTER.fullmatch(error.pointer)
    if found is not None:
        index = origins.get((int(found.group(1)), int(found.group(2))))
        if index is not None:  # a line the process named by its ref: the report's own line
            return f"/lines/{index}{found.group(3)}"
    return f"/cbam{error.pointer}"


def cbam_checked(
    *, facility: Facility, year: int, month: int | None, data: Any, lines: Sequence[Any] = ()
) -> dict[str, Any] | None:
    """``data`` checked for a report of ``facility`` for ``year`` (``month`` None: annual) with activity
    ``lines``, ready to store: the methodology and its version pinned. None stays None (no CBAM data).
    Raises :class:`InvalidInput` with pointers into ``/cbam`` (or ``/lines/N`` for a line named by ref)."""
    if data is None:
        return None
    if month is not None:
        raise InvalidInput(
            "CBAM data belongs to an annual report",
            [
                FieldError(
                    "/cbam",
                    "annual_only",
                    "CBAM data belongs to an annual report (the CBAM period is the year)",
                )
            ],
        )
    if not isinstance(data, dict):
        raise InvalidInput(
            "the request is invalid", [FieldError("/cbam", "invalid_type", "cbam must be an object")]
        )
    errors = [
        FieldError(
            f"/cbam/{key}",
            "unknown_field",
            f"{str(key)[:64]!r} is not a field; expected {', '.join(sorted(FIELDS))}",
        )
        for key in data
        if key not in FIELDS
    ]
    body, origins, ref_errors = _resolved(data, lines)
    errors += [FieldError(f"/cbam{e.pointer}", e.code, e.detail) for e in ref_errors]
    if errors:
        raise InvalidInput(f"{len(errors)} invalid field(s)", errors)
    body.setdefault("installation", {"name": facility.name, "country": "CN"})
    try:
        request = engine.parse({**body, "year": year})
        engine.compute(request)
    except InvalidInput as error:
        raise InvalidInput(
            error.detail, [FieldError(_pointer(e, origins), e.code, e.detail) for e in error.errors]
        ) from error
    methodology = request.methodology
    return jsonable({**data, "methodology": methodology.code, "methodology_version": methodology.version})
