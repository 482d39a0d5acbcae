"""``manage.py create_api_user USERNAME --role ROLE [--organisation NAME]``: a user and their API token.

The token is the last line of the output, so a script can take it with ``| tail -n 1``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mrv.models import Membership
from mrv.services.users import user_create_with_token


class Command(BaseCommand):
    help = "Create an API user in an organisation (created if missing) and print their token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument(
            "--organisation",
            help="organisation name (default: the username); created with the kind the role belongs to",
        )
        parser.add_argument(
            "--credit-code",
            help="credit code (USCC) of a new organisation (default: a placeholder derived from its name)",
        )

    def handle(self, *args: Any, username: str, role: str, **options: Any) -> None:
        organisation_name = options["organisation"] or username
        try:
            user, token = user_create_with_token(
                username=username,
                role=role,
                organisation_name=organisation_name,
                credit_code=options["credit_code"],
            )
        except ValidationError as exc:
            messages = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
            raise CommandError(messages) from exc
        self.stdout.write(f"Created {role} {user.get_username()!r} in organisation {organisation_name!r}.")
        self.stdout.write("API token (send it as 'Authorization: Token <token>'):")
        self.stdout.write(token.key)
