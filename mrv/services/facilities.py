"""Writes on facilities (the competent authority registers them and assigns verification bodies).

Reports keep the sector and province they were filed under, so an update rewrites none of them; a new
verification body takes over the facility's open verification jobs (``jobs_follow_facility``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from mrv.domain.canonical import digest
from mrv.models import Facility
from mrv.services.assignment import jobs_follow_facility
from mrv.services.audit import audit_record

FIELDS = ("name", "operator", "sector", "province", "verification_body")


def _snapshot(facility: Facility) -> dict[str, Any]:
    return {
        "name": facility.name,
        "operator": facility.operator_id,
        "sector": facility.sector,
        "province": facility.province,
        "verification_body": facility.verification_body_id,
    }


@transaction.atomic
def facility_create(*, by: AbstractBaseUser, **data: Any) -> Facility:
    facility = Facility(**{key: data[key] for key in FIELDS if key in data})
    facility.full_clean()
    facility.save()
    audit_record(
        actor=by,
        action="facility.create",
        object_type="facility",
        object_id=facility.pk,
        facility=facility,
        after_digest=digest(_snapshot(facility)),
        data=_snapshot(facility),
    )
    return facility


@transaction.atomic
def facility_update(*, by: AbstractBaseUser, facility: Facility, **data: Any) -> Facility:
    before = _snapshot(facility)
    body_before = facility.verification_body_id
    for key in FIELDS:
        if key in data:
            setattr(facility, key, data[key])
    facility.full_clean()
    facility.save()
    audit_record(
        actor=by,
        action="facility.update",
        object_type="facility",
        object_id=facility.pk,
        facility=facility,
        before_digest=digest(before),
        after_digest=digest(_snapshot(facility)),
        data={"before": before, "after": _snapshot(facility)},
    )
    if facility.verification_body_id != body_before:
        jobs_follow_facility(facility=facility, by=by)  # open jobs move to the new body, audited
    return facility
