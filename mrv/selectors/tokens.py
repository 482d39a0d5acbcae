"""Reads of API tokens: a user sees only their own; authentication finds one by its digest."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Model, QuerySet

from mrv.models import ApiToken, Membership, Organisation


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """``user``'s tokens, newest first (expired ones too, until revoked)."""
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created", "-id")


class _TokenLookup:
    """One statement for the token with its user, the membership it is bound to and its organisation.

    The same as ``select_related("user", "membership__organisation").get(digest=...)``, but written once
    per database: the ORM compiles that four-table join anew on every request, which cost twice the
    query itself on the hottest path of the API (every authenticated request; see ``bench/auth.py``).
    Values go through the same converters as in the ORM (SQLite keeps datetimes as text).
    """

    def __init__(self, alias: str) -> None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        self.alias = alias
        self.models: list[type[Model]] = [ApiToken, get_user_model(), Membership, Organisation]
        self.fields = [list(model._meta.concrete_fields) for model in self.models]
        token, user, membership, organisation = (quote(model._meta.db_table) for model in self.models)
        columns = ", ".join(
            f"{quote(model._meta.db_table)}.{quote(field.column)}"
            for model, fields in zip(self.models, self.fields, strict=True)
            for field in fields
        )
        user_pk = quote(get_user_model()._meta.pk.column)
        membership_pk = quote(Membership._meta.pk.column)
        membership_organisation = quote(Membership._meta.get_field("organisation").column)
        listed = Membership.facilities.through
        listed_table = quote(listed._meta.db_table)
        listed_membership = quote(listed._meta.get_field("membership").column)
        # Whether the membership lists facilities (then the scoping narrows to them): in the same statement.
        restricted = (
            f"EXISTS (SELECT 1 FROM {listed_table} WHERE {listed_table}.{listed_membership}"
            f" = {membership}.{membership_pk})"
        )
        self.sql = (
            f"SELECT {columns}, {restricted} FROM {token}"
            f" INNER JOIN {user} ON {user}.{user_pk} = {token}.{quote(ApiToken._meta.get_field('user').column)}"
            f" LEFT OUTER JOIN {membership}"
            f" ON {membership}.{membership_pk} = {token}.{quote(ApiToken._meta.get_field('membership').column)}"
            f" LEFT OUTER JOIN {organisation}"
            f" ON {organisation}.{quote(Organisation._meta.pk.column)} = {membership}.{membership_organisation}"
            f" WHERE {token}.{quote(ApiToken._meta.get_field('digest').column)} = %s"
        )
        self.converters = []
        for model, fields in zip(self.models, self.fields, strict=True):
            for field in fields:
                column = field.get_col(model._meta.db_table)
                functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                self.converters.append((functions, column))

    def __call__(self, digest: str) -> ApiToken | None:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [digest])
            row = cursor.fetchone()
        if row is None:
            return None
        *row, restricted = row
        values = []
        for value, (functions, column) in zip(row, self.converters, strict=True):
            for function in functions:
                value = function(value, column, connection)
            values.append(value)
        instances = []
        start = 0
        for model, fields in zip(self.models, self.fields, strict=True):
            part = values[start : start + len(fields)]
            start += len(fields)
            names = [field.attname for field in fields]
            instances.append(None if part[0] is None else model.from_db(self.alias, names, part))
        token, user, membership, organisation = instances
        token.user = user
        if membership is not None:
            membership.organisation = organisation
            membership.user = user
            membership.restricted = bool(restricted)
        token.membership = membership  # the membership the token is bound to (None: not bound)
        return token


@cache
def _lookup(alias: str) -> _TokenLookup:
    return _TokenLookup(alias)


def token_by_digest(digest: str, *, using: str = "default") -> ApiToken | None:
    """The token with this digest, its user, bound membership (with ``restricted``: whether it lists
    facilities) and organisation loaded; None if unknown."""
    return _lookup(using)(digest)
