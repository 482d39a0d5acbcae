"""``manage.py create_api_user USERNAME --role ROLE [--organisation NAME]``: a user and their API token.

``--province CN-JS`` (repeatable) makes a new authority provincial (none: national); ``--consultant``
puts an operator-side user in a consultant organisation; ``--capability preparer|submitter`` (default
submitter) and ``--facility ID`` (repeatable: only those facilities) shape an operator-side membership.
Naming an existing user with ``--role`` and another ``--organisation`` gives them one more membership,
and a token bound to it.

``manage.py create_api_user USERNAME --rotate [PREFIX]`` revokes the existing user's token whose prefix
is PREFIX (every token of theirs without one) and issues a new one.

``--password`` gives a regulator a password for the dashboard (``/accounts/login/``): with ``--role
regulator`` when creating them, or alone for an existing regulator. The password is read from the
environment variable ``MRV_USER_PASSWORD`` when it is set, else asked twice at the prompt; it is never
an argument (arguments show in ``ps`` and the shell's history).

Naming an existing user without ``--rotate`` or ``--password`` is an error that says how to get them a
new token.

The token is the last line of the output, so a script can take it with ``| tail -n 1``. It is shown
this once: only its digest is stored.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mrv.models import Facility, Membership
from mrv.services.tokens import token_rotate
from mrv.services.users import user_create_with_token, user_set_password

TOKEN_NAME = "manage.py create_api_user"
PASSWORD_VARIABLE = "MRV_USER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create an API user in an organisation (created if missing) and print their token last; "
        "or, with --rotate, replace an existing user's token; --password gives a regulator a dashboard "
        f"password (from ${PASSWORD_VARIABLE} or the prompt)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Membership.Role.values, help="the new user's role")
        parser.add_argument(
            "--organisation",
            help="organisation name (default: the username); created with the kind the role belongs to",
        )
        parser.add_argument(
            "--credit-code",
            help="credit code (USCC) of a new organisation (default: a placeholder derived from its name)",
        )
        parser.add_argument("--email", default="", help="the new user's e-mail address (for notifications)")
        parser.add_argument(
            "--province",
            action="append",
            default=[],
            metavar="CODE",
            help="a regulator's new authority covers this province (ISO 3166-2:CN, repeatable); none: national",
        )
        parser.add_argument(
            "--consultant",
            action="store_true",
            help="an operator-side user of a consultant organisation (acts on facilities granted to it)",
        )
        parser.add_argument(
            "--capability",
            choices=Membership.Capability.values,
            default="",
            help="operator side: preparer (drafts only) or submitter (also submits; the default)",
        )
        parser.add_argument(
            "--facility",
            action="append",
            type=int,
            default=[],
            metavar="ID",
            help="operator side: the membership acts on this facility only (repeatable; none: all)",
        )
        parser.add_argument(
            "--rotate",
            nargs="?",
            const="",
            metavar="PREFIX",
            help="for an existing user: revoke the token with this prefix (all their tokens without one) "
            "and print a new one",
        )
        parser.add_argument(
            "--password",
            action="store_true",
            help=f"give the (new or existing) regulator a password for the dashboard, read from "
            f"${PASSWORD_VARIABLE} or asked at the prompt",
        )

    def handle(self, *args: Any, username: str, role: str | None, **options: Any) -> None:
        existing = get_user_model().objects.filter(username=username).first()
        if existing is not None and options["password"]:
            self.set_password(existing, self.read_password())
        if options["rotate"] is not None:
            self.rotate(username, prefix=options["rotate"] or None)
            return
        if existing is not None and role is not None and options["organisation"]:
            self.create(username, role, options, password=None)
            return
        if existing is not None:
            if options["password"]:
                return
            raise CommandError(
                f"user {username!r} exists already. To give them a new token: manage.py create_api_user "
                f"{username} --rotate (revokes their tokens and prints a new one; --rotate PREFIX revokes "
                "only that one), or they create one themselves with POST /api/v1/auth/tokens/. To give a "
                f"regulator a dashboard password: manage.py create_api_user {username} --password."
            )
        if role is None:
            raise CommandError("--role is required to create a user (or --rotate for an existing one)")
        password = self.read_password() if options["password"] else None
        self.create(username, role, options, password=password)

    def create(self, username: str, role: str, options: dict[str, Any], *, password: str | None) -> None:
        organisation_name = options["organisation"] or username
        facilities = list(Facility.objects.filter(pk__in=options["facility"]))
        missing = sorted(set(options["facility"]) - {f.pk for f in facilities})
        if missing:
            raise CommandError(f"--facility: no facility {', '.join(map(str, missing))}")
        try:
            user, token = user_create_with_token(
                username=username,
                role=role,
                organisation_name=organisation_name,
                credit_code=options["credit_code"],
                token_name=TOKEN_NAME,
                password=password,
                email=options["email"],
                provinces=options["province"],
                capability=options["capability"],
                facilities=facilities,
                consultant=options["consultant"],
            )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        membership = token.token.membership
        where = f" ({', '.join(options['province'])})" if options["province"] else ""
        self.stdout.write(
            f"Created {role} {user.get_username()!r} in organisation {organisation_name!r}{where}"
            f" (membership {membership.pk if membership else '-'})."
        )
        if password is not None:
            self.stdout.write("They sign in to the dashboard at /accounts/login/ with their password.")
        self.print_token(token.key)

    def read_password(self) -> str:
        """The password from $MRV_USER_PASSWORD, else typed twice at the prompt (never an argument)."""
        from_environment = os.environ.get(PASSWORD_VARIABLE)
        if from_environment:
            return from_environment
        if not sys.stdin.isatty():
            raise CommandError(f"--password: set {PASSWORD_VARIABLE}, or run the command at a terminal")
        password = getpass.getpass("Dashboard password: ")
        if password != getpass.getpass("The same password again: "):
            raise CommandError("--password: the two passwords differ; nothing was changed")
        return password

    def set_password(self, user: Any, password: str) -> None:
        try:
            user_set_password(user=user, password=password)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        self.stdout.write(
            f"Password set for {user.get_username()!r}: they sign in to the dashboard at /accounts/login/."
        )

    def rotate(self, username: str, *, prefix: str | None) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        try:
            issued, revoked = token_rotate(user=user, prefix=prefix, name=TOKEN_NAME)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Revoked {revoked} token(s) of {username!r}.")
        self.print_token(issued.key)

    def print_token(self, key: str) -> None:
        self.stdout.write("API token, shown this once (send it as 'Authorization: Token <token>'):")
        self.stdout.write(key)


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items())
    return " ".join(error.messages)
