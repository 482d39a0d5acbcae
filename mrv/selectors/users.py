"""Reads on API users and their organisations."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from mrv.models import Membership


def membership_for_user(*, user: AbstractBaseUser) -> Membership | None:
    """The user's membership (organisation and role), or None for a user outside any organisation."""
    return Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
