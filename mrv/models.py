"""Organisations and the people who act for them.

An organisation is one of the three parties of an emissions trading system: a facility operator,
a verification body or the competent authority. Every API user belongs to exactly one organisation,
with the role that matches its kind; what a user may see and do follows from that membership.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mrv.validators import USCC_LENGTH, validate_credit_code


class Organisation(models.Model):
    class Kind(models.TextChoices):
        OPERATOR = "operator", "Operator"
        VERIFICATION_BODY = "verification_body", "Verification body"
        AUTHORITY = "authority", "Competent authority"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    credit_code = models.CharField(
        "unified social credit code",
        max_length=USCC_LENGTH,
        unique=True,
        validators=[validate_credit_code],
        help_text="18-character Unified Social Credit Code (GB 32100-2015), with its check character.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["operator", "verification_body", "authority"]),
                name="organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in one organisation and the role it gives them."""

    class Role(models.TextChoices):
        OPERATOR = "operator", "Operator"
        VERIFIER = "verifier", "Verifier"
        REGULATOR = "regulator", "Regulator"

    #: The organisation kind each role belongs to.
    KIND_FOR_ROLE = {
        Role.OPERATOR: Organisation.Kind.OPERATOR,
        Role.VERIFIER: Organisation.Kind.VERIFICATION_BODY,
        Role.REGULATOR: Organisation.Kind.AUTHORITY,
    }

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["operator", "verifier", "regulator"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.organisation})"
