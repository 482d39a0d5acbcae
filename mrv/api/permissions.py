"""Permission classes, each answering one question; composed with ``&`` and ``|`` in the views.

Object visibility is not decided here but by the selectors in ``mrv.selectors.scoping``: an object
outside a user's scope is never found (404). These classes decide what a user may *do*.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from mrv.selectors.scoping import (
    OPERATOR,
    REGULATOR,
    VERIFIER,
    jurisdiction_of,
    may_grant,
    may_submit,
    role_of,
)


class IsReadOnly(BasePermission):
    """GET, HEAD and OPTIONS."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS


class IsOperator(BasePermission):
    """A facility operator's user."""

    message = "Only a facility operator may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) == OPERATOR


class IsVerifier(BasePermission):
    """A verification body's user."""

    message = "Only a verifier may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) == VERIFIER


class IsRegulator(BasePermission):
    """A competent authority's user."""

    message = "Only the competent authority may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) == REGULATOR


class HasOrganisation(BasePermission):
    """Any user who belongs to an organisation (users outside one see nothing and do nothing)."""

    message = "Your user belongs to no organisation."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) is not None


class IsSubmitter(BasePermission):
    """An operator-side member with the ``submitter`` capability (a ``preparer`` edits drafts only)."""

    message = (
        "Your membership is a preparer: a submitter of the organisation must submit and certify this report."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_submit(request.user)


class IsPlanSubmitter(IsSubmitter):
    """The same capability submits a monitoring plan to the competent authority."""

    message = (
        "Your membership is a preparer: a submitter of the organisation must submit this monitoring plan."
    )


class MayGrant(BasePermission):
    """A submitter of the facility's own operator organisation (not a consultant) grants access to it."""

    message = "Only a submitter of the facility's operator may grant or revoke a consultant's access."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may_grant(request.user)


class IsNationalRegulator(BasePermission):
    """A regulator of a national authority (no provinces)."""

    message = "Only a national authority may change an authority's jurisdiction."

    def has_permission(self, request: Request, view: Any) -> bool:
        return role_of(request.user) == REGULATOR and jurisdiction_of(request.user) is None
