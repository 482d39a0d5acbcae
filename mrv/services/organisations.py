"""Writes on organisations."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from mrv.models import Organisation
from mrv.services.audit import audit_record
from mrv.validators import uscc_check_character

#: GB 11714-1997 weights for the 8 characters of an organisation code before its check digit.
_ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def placeholder_credit_code(*, name: str) -> str:
    """A valid Unified Social Credit Code derived from ``name``, for demo data and quick set-up.

    Registration authority 9 (market regulation), organisation type 1 (enterprise), division code
    110000 (Beijing), then an organisation code of eight digits taken from a hash of the name with
    its GB 11714 check digit, then the GB 32100 check character. It is well-formed, not registered:
    real organisations must be given their real code.
    """
    digits = f"{int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], 'big') % 10**8:08d}"
    remainder = sum(
        int(digit) * weight for digit, weight in zip(digits, _ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - remainder % 11
    organisation_code = digits + {10: "X", 11: "0"}.get(check, str(check))
    body = "91" + "110000" + organisation_code
    return body + uscc_check_character(body)


@transaction.atomic
def organisation_create(
    *, name: str, kind: str, credit_code: str, by: AbstractBaseUser | None = None
) -> Organisation:
    organisation = Organisation(name=name, kind=kind, credit_code=credit_code)
    organisation.full_clean()
    organisation.save()
    audit_record(
        actor=by,
        action="organisation.create",
        object_type="organisation",
        object_id=organisation.pk,
        organisation=organisation,
        data={"name": name, "kind": kind, "credit_code": credit_code},
    )
    return organisation
