"""Writes on API users: a user, their membership of an organisation, their first API token, and the
password a regulator signs in to the dashboard with."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    UserAttributeSimilarityValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import transaction

from mrv.models import Facility, Membership, Organisation
from mrv.services.memberships import jurisdiction_set, membership_create, valid_provinces
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.tokens import IssuedToken, token_issue

#: What a dashboard password must pass (whatever AUTH_PASSWORD_VALIDATORS says): it opens every
#: facility's verified figures.
PASSWORD_VALIDATORS = [
    UserAttributeSimilarityValidator(),
    MinimumLengthValidator(min_length=12),
    CommonPasswordValidator(),
    NumericPasswordValidator(),
]


@transaction.atomic
def user_set_password(*, user: AbstractBaseUser, password: str) -> AbstractBaseUser:
    """Give a regulator ``user`` a password to sign in to the dashboard (``/accounts/login/``).

    Refused for operators and verifiers (their work is in the API, with tokens) and for a password that
    fails :data:`PASSWORD_VALIDATORS`; the password is stored hashed (Django's hasher).
    """
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    role = Membership.Role.REGULATOR if Membership.Role.REGULATOR in roles else next(iter(roles), None)
    if role != Membership.Role.REGULATOR:
        who = {"operator": "an operator", "verifier": "a verifier"}.get(role or "", "in no organisation")
        raise ValidationError(
            {
                "password": (
                    f"{user.get_username()!r} is {who}; a password opens the regulator's dashboard, so only "
                    "regulators get one (operators and verifiers use API tokens)."
                )
            }
        )
    validate_password(password, user, password_validators=PASSWORD_VALIDATORS)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_create_with_token(
    *,
    username: str,
    role: str,
    organisation_name: str,
    credit_code: str | None = None,
    token_name: str = "",
    password: str | None = None,
    email: str = "",
    provinces: Iterable[str] = (),
    capability: str = "",
    facilities: Iterable[Facility] = (),
    consultant: bool = False,
) -> tuple[AbstractBaseUser, IssuedToken]:
    """Create a user with ``role`` in the named organisation, and an API token bound to that membership.

    The organisation is created when it does not exist, with the kind that the role belongs to (a
    consultant's when ``consultant``) and ``credit_code`` (a placeholder code derived from the name when
    none is given); a new authority gets ``provinces`` as its jurisdiction (none: national). An existing
    organisation of another kind is refused: a verifier cannot join an operator; an existing authority
    keeps its jurisdiction (``provinces`` must then be the same). An existing user gets one more
    membership (and a token bound to it).
    The user authenticates with the token, whose plain ``key`` is returned here and stored nowhere (only
    its digest is kept); a regulator may also be given a ``password`` for the dashboard
    (:func:`user_set_password`), otherwise the user has no usable password. ``email``: where their
    notifications are sent (none without it).
    """
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be one of {', '.join(Membership.Role.values)}."})
    kind = Membership.KIND_FOR_ROLE[Membership.Role(role)]
    if consultant:
        if role != Membership.Role.OPERATOR:
            raise ValidationError({"role": "A consultant's members act on the operator side: role operator."})
        kind = Organisation.Kind.CONSULTANT
    codes = valid_provinces(provinces)
    if codes and role != Membership.Role.REGULATOR:
        raise ValidationError({"provinces": "Only a regulator's authority has provinces."})
    organisation = Organisation.objects.filter(name=organisation_name).first()
    if organisation is None:
        organisation = organisation_create(
            name=organisation_name,
            kind=kind,
            credit_code=credit_code or placeholder_credit_code(name=organisation_name),
        )
        if codes:
            organisation = jurisdiction_set(by=None, organisation=organisation, provinces=codes)
    elif organisation.kind not in Membership.KINDS_FOR_ROLE[Membership.Role(role)] or (
        consultant and organisation.kind != kind
    ):
        raise ValidationError(
            {
                "organisation": (
                    f"{organisation_name!r} is a {organisation.get_kind_display().lower()}; "
                    f"a {role} belongs to a {Organisation.Kind(kind).label.lower()}."
                )
            }
        )
    elif codes and codes != list(organisation.provinces):
        raise ValidationError(
            {
                "provinces": (
                    f"{organisation_name!r} exists with jurisdiction "
                    f"{', '.join(organisation.provinces) or 'national'}; change it in the admin or with "
                    "PUT /api/v1/organisations/<id>/jurisdiction/."
                )
            }
        )
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model()(username=username, email=email)
        user.set_unusable_password()
        user.full_clean()
        user.save()
    found = membership_create(
        by=None,
        user=user,
        organisation=organisation,
        role=role,
        capability=capability,
        facilities=facilities,
    )
    if password is not None:
        user = user_set_password(user=user, password=password)
    return user, token_issue(user=user, name=token_name, membership=found)
