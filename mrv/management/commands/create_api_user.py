"""``manage.py create_api_user USERNAME --role ROLE [--organisation NAME]``: a user and their API token.

``manage.py create_api_user USERNAME --rotate [PREFIX]`` revokes the existing user's token whose prefix
is PREFIX (every token of theirs without one) and issues a new one.

The token is the last line of the output, so a script can take it with ``| tail -n 1``. It is shown
this once: only its digest is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mrv.models import Membership
from mrv.services.tokens import token_rotate
from mrv.services.users import user_create_with_token

TOKEN_NAME = "manage.py create_api_user"


class Command(BaseCommand):
    help = (
        "Create an API user in an organisation (created if missing) and print their token last; "
        "or, with --rotate, replace an existing user's token."
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
        parser.add_argument(
            "--rotate",
            nargs="?",
            const="",
            metavar="PREFIX",
            help="for an existing user: revoke the token with this prefix (all their tokens without one) "
            "and print a new one",
        )

    def handle(self, *args: Any, username: str, role: str | None, **options: Any) -> None:
        if options["rotate"] is not None:
            self.rotate(username, prefix=options["rotate"] or None)
            return
        if role is None:
            raise CommandError("--role is required to create a user (or --rotate for an existing one)")
        organisation_name = options["organisation"] or username
        try:
            user, token = user_create_with_token(
                username=username,
                role=role,
                organisation_name=organisation_name,
                credit_code=options["credit_code"],
                token_name=TOKEN_NAME,
            )
        except ValidationError as exc:
            messages = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
            raise CommandError(messages) from exc
        self.stdout.write(f"Created {role} {user.get_username()!r} in organisation {organisation_name!r}.")
        self.print_token(token.key)

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
