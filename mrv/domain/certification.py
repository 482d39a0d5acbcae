"""The certification a submitter confirms when submitting a report (sign-off), and its digest part.

The statement follows the peers' sign-off (EPA e-GGRT's designated representative, BC OBPS's
attestation): the person certifies the report as the operator's. It is stored with the revision (who,
for which organisation, when) and covered by the revision's digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: What the submitter confirms (``POST /api/v1/reports/{id}/submit/`` with ``{"certify": true}``).
STATEMENT = (
    "I certify that I am authorised to submit this report on behalf of the operator, that I have "
    "examined it, and that to the best of my knowledge and belief the information it contains is true, "
    "accurate and complete."
)


def digest_part(*, statement: str, name: str, organisation: int, at: datetime) -> dict[str, Any]:
    """The certification as the revision's digest covers it (``digest(inputs | {"certification": ...})``)."""
    return {"statement": statement, "name": name, "organisation": organisation, "at": at.isoformat()}
