"""Writes on API users: a user, their membership of an organisation and their API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from mrv.models import Membership, Organisation
from mrv.services.organisations import organisation_create, placeholder_credit_code


@transaction.atomic
def user_create_with_token(
    *, username: str, role: str, organisation_name: str, credit_code: str | None = None
) -> tuple[AbstractBaseUser, Token]:
    """Create a user with ``role`` in the named organisation, and an API token for them.

    The organisation is created when it does not exist, with the kind that the role belongs to and
    ``credit_code`` (a placeholder code derived from the name when none is given). An existing
    organisation of another kind is refused: a verifier cannot join an operator.
    The user has no password: they authenticate with the token.
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
    token = Token.objects.create(user=user)
    return user, token
