"""Writes on who may act for whom: memberships, authorities' jurisdictions, consultants' facility grants.

Every write is audited. A grant's revocation takes effect on the next request (the scoping selectors
read the grants in each statement), tokens included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mrv.domain.provinces import PROVINCES
from mrv.errors import Conflict, InvalidRequest
from mrv.models import ApiToken, Facility, FacilityGrant, Membership, Organisation
from mrv.services.audit import audit_record
from mrv.services.tokens import token_revoke


def _snapshot(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user_id,
        "organisation": membership.organisation_id,
        "role": membership.role,
        "capability": membership.capability,
        "facilities": sorted(membership.facilities.values_list("id", flat=True)) if membership.pk else [],
        "valid_from": membership.valid_from.isoformat() if membership.valid_from else None,
        "valid_until": membership.valid_until.isoformat() if membership.valid_until else None,
    }


def _check(*, organisation: Organisation, role: str, capability: str, facilities: list[Facility]) -> str:
    """The capability to store (operator side: ``submitter`` by default; other roles: none)."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Membership.Role.values)}."})
    kinds = Membership.KINDS_FOR_ROLE[Membership.Role(role)]
    if organisation.kind not in kinds:
        raise ValidationError(
            {
                "organisation": (
                    f"{organisation.name!r} is a {organisation.get_kind_display().lower()}; "
                    f"a {role} belongs to a {Organisation.Kind(kinds[0]).label.lower()}."
                )
            }
        )
    if role != Membership.Role.OPERATOR:
        if capability or facilities:
            raise ValidationError(
                {"capability": "Only an operator-side membership has a capability and facilities."}
            )
        return ""
    capability = capability or Membership.Capability.SUBMITTER
    if capability not in Membership.Capability.values:
        raise ValidationError({"capability": "Capability must be preparer or submitter."})
    if organisation.kind == Organisation.Kind.OPERATOR:
        foreign = [f.pk for f in facilities if f.operator_id != organisation.pk]
        if foreign:
            raise ValidationError(
                {"facilities": f"Facilities {foreign} are not operated by {organisation.name!r}."}
            )
    return capability


@transaction.atomic
def membership_create(
    *,
    by: AbstractBaseUser | None,
    user: AbstractBaseUser,
    organisation: Organisation,
    role: str,
    capability: str = "",
    facilities: Iterable[Facility] = (),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Membership:
    """A new membership of ``user`` in ``organisation``; operator-side ones are ``submitter`` by default."""
    listed = list(facilities)
    capability = _check(organisation=organisation, role=role, capability=capability, facilities=listed)
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValidationError({"valid_until": "valid_until must be after valid_from."})
    if Membership.objects.filter(user_id=user.pk, organisation=organisation).exists():
        raise ValidationError(
            {"organisation": f"{user.get_username()!r} is already a member of {organisation.name!r}."}
        )
    membership = Membership.objects.create(
        user=user,
        organisation=organisation,
        role=role,
        capability=capability,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    membership.facilities.set(listed)
    audit_record(
        actor=by,
        action="membership.create",
        object_type="membership",
        object_id=membership.pk,
        organisation=organisation,
        data=_snapshot(membership),
    )
    return membership


@transaction.atomic
def membership_update(*, by: AbstractBaseUser | None, membership: Membership, **data: Any) -> Membership:
    """Change a membership's ``capability``, ``facilities``, ``valid_from`` or ``valid_until``."""
    before = _snapshot(membership)
    listed = list(data["facilities"]) if "facilities" in data else list(membership.facilities.all())
    for name in ("capability", "valid_from", "valid_until"):
        if name in data:
            setattr(membership, name, data[name])
    membership.capability = _check(
        organisation=membership.organisation,
        role=membership.role,
        capability=membership.capability,
        facilities=listed,
    )
    if membership.valid_from and membership.valid_until and membership.valid_until <= membership.valid_from:
        raise ValidationError({"valid_until": "valid_until must be after valid_from."})
    membership.save()
    membership.facilities.set(listed)
    audit_record(
        actor=by,
        action="membership.update",
        object_type="membership",
        object_id=membership.pk,
        organisation=membership.organisation,
        data={"before": before, "after": _snapshot(membership)},
    )
    return membership


@transaction.atomic
def membership_delete(*, by: AbstractBaseUser | None, membership: Membership) -> None:
    """End a membership at once, revoking the tokens bound to it (each revocation audited)."""
    for token in ApiToken.objects.filter(membership=membership).select_related("user"):
        token_revoke(user=token.user, token=token, by=by)
    audit_record(
        actor=by,
        action="membership.delete",
        object_type="membership",
        object_id=membership.pk,
        organisation=membership.organisation,
        data=_snapshot(membership),
    )
    membership.delete()


def valid_provinces(provinces: Iterable[str]) -> list[str]:
    """The ISO 3166-2:CN codes, checked, sorted and without repeats."""
    codes = sorted(set(provinces))
    unknown = [code for code in codes if code not in PROVINCES]
    if unknown:
        raise ValidationError(
            {"provinces": f"Unknown province code(s) {', '.join(unknown)}: use ISO 3166-2:CN codes (CN-JS)."}
        )
    return codes


@transaction.atomic
def jurisdiction_set(
    *, by: AbstractBaseUser | None, organisation: Organisation, provinces: Iterable[str]
) -> Organisation:
    """Set an authority's jurisdiction: the provinces listed, or national when none."""
    if organisation.kind != Organisation.Kind.AUTHORITY:
        raise ValidationError({"provinces": "Only an authority has a jurisdiction."})
    before = list(organisation.provinces)
    organisation.provinces = valid_provinces(provinces)
    organisation.save(update_fields=["provinces"])
    audit_record(
        actor=by,
        action="organisation.jurisdiction",
        object_type="organisation",
        object_id=organisation.pk,
        organisation=organisation,
        data={"before": before, "after": organisation.provinces},
    )
    return organisation


@transaction.atomic
def grant_create(*, by: AbstractBaseUser | None, facility: Facility, grantee: Organisation) -> FacilityGrant:
    """Grant the consultant ``grantee`` access to ``facility`` (its members act with their capability)."""
    if grantee.kind != Organisation.Kind.CONSULTANT:
        raise InvalidRequest(
            f"{grantee.name!r} is not a consultant: grants go to consultant organisations",
            [
                {
                    "pointer": "/grantee",
                    "code": "not_a_consultant",
                    "detail": "grants go to consultant organisations",
                }
            ],
        )
    Facility.objects.select_for_update().filter(pk=facility.pk).first()  # one grant at a time per facility
    if FacilityGrant.objects.filter(facility=facility, grantee=grantee, revoked_at__isnull=True).exists():
        raise Conflict(f"{grantee.name!r} already has a grant on this facility")
    grant = FacilityGrant.objects.create(facility=facility, grantee=grantee, granted_by=by)
    audit_record(
        actor=by,
        action="grant.create",
        object_type="facility_grant",
        object_id=grant.pk,
        facility=facility,
        data={"grantee": grantee.pk, "grantee_name": grantee.name},
    )
    return grant


@transaction.atomic
def grant_revoke(*, by: AbstractBaseUser | None, grant: FacilityGrant) -> FacilityGrant:
    """Revoke a grant: the consultant's next request finds the facility no more (tokens included)."""
    locked = FacilityGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.revoked_at is not None:
        raise Conflict("this grant is revoked already")
    locked.revoked_at, locked.revoked_by = timezone.now(), by
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=by,
        action="grant.revoke",
        object_type="facility_grant",
        object_id=locked.pk,
        facility=locked.facility,
        data={"grantee": locked.grantee_id},
    )
    return locked
