"""CBAM process data carried by a report revision (SPEC §9): checked on every write of a draft.

Design: a revision of an annual report may carry a ``cbam`` JSON object, the body of
``POST /api/v1/cbam/embedded-emissions/`` without ``year`` (the report's year is the CBAM period):
``{installation?, methodology?, methodology_version?, processes: [...]}``. It is set on create or update of a
draft (``cbam``; ``null`` removes it), checked by the same engine as the stateless endpoint (errors point
into ``/cbam/...``), stored with its methodology version pinned (a later version of the methodology never
changes a stored report's figures), copied by a revision, part of the submitted digest and frozen with the
revision (database trigger, migration 0018). Without ``installation``, the facility is the installation
(its name, country CN).
"""

from __future__ import annotations

from typing import Any

from accounting import cbam as engine
from accounting.errors import FieldError, InvalidInput
from mrv.domain.canonical import jsonable
from mrv.models import Facility

#: The fields of a report's ``cbam`` object (the stateless body's without ``year``).
FIELDS = engine.TOP_LEVEL_FIELDS - {"year"}


def cbam_payload(*, facility: Facility, year: int, data: Any) -> dict[str, Any]:
    """The stateless request body for stored ``data`` of a report of ``facility`` for ``year``."""
    body = dict(data)
    body.setdefault("installation", {"name": facility.name, "country": "CN"})
    return {**body, "year": year}


def cbam_checked(*, facility: Facility, year: int, month: int | None, data: Any) -> dict[str, Any] | None:
    """``data`` checked for a report of ``facility`` for ``year`` (``month`` None: annual), ready to store:
    the methodology and its version pinned. None stays None (no CBAM data). Raises :class:`InvalidInput`
    with pointers into ``/cbam``."""
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
    if errors:
        raise InvalidInput(f"{len(errors)} invalid field(s)", errors)
    try:
        request = engine.parse(cbam_payload(facility=facility, year=year, data=data))
        engine.compute(request)
    except InvalidInput as error:
        raise InvalidInput(
            error.detail,
            [
                FieldError("/year" if e.pointer == "/year" else f"/cbam{e.pointer}", e.code, e.detail)
                for e in error.errors
            ],
        ) from error
    methodology = request.methodology
    return jsonable({**data, "methodology": methodology.code, "methodology_version": methodology.version})
