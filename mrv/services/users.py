"""Writes on API users: a user, their membership of an organisation and their first API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from mrv.models import Membership, Organisation
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.tokens import IssuedToken, token_issue


@transaction.atomic
def user_create_with_token(
    *,
    username: str,
    role: str,
    organisation_name: str,
    credit_code: str | None = None,
    token_name: str = "",
) -> tuple[AbstractBaseUser, IssuedToken]:
    """Create a user with ``role`` in the named organisation, and an API token for them.

    The organisation is created when it does not exist, with the kind that the role belongs to and
    ``credit_code`` (a placeholder code derived from the name when none is given). An existing
    organisation of another kind is refused: a verifier cannot join an operator.
    The user has no password: they authenticate with the token, whose plain ``key`` is returned here
    and stored nowhere (only its digest is kept).
    """
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Membership.Role.values)}."})
    kind = Membership.KIND_FOR_ROLE[Membership.Role(role)]
    organisation = Organisation.objects.filter(name=organisation_name).first()
    if organisation is None:
        organisation = organisation_create(
            name=organisation_name,
            kind=kind,
            credit_code=credit_code or placeholder_credit_code(name=organisation_name),
        )
    elif organisation.kind != kind:
        raise ValidationError(
            {
                "organisation": (
                    f"{organisation_name!r} is a {organisation.get_kind_display().lower()}; "
                    f"a {role} belongs to a {Organisation.Kind(kind).label.lower()}."
                )
            }
        )
    user = get_user_model()(username=username)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user, token_issue(user=user, name=token_name)
