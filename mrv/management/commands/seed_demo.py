"""``manage.py seed_demo``: load the demo organisations and users (idempotent) and print their tokens.

Prints one line per demo user, ``ROLE USERNAME TOKEN``, so that scripts can pick a token with awk.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mrv.services.demo import demo_seed


class Command(BaseCommand):
    help = "Create the demo organisations and users if missing and print their API tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        for user in demo_seed():
            self.stdout.write(f"{user.role:<10} {user.username:<16} {user.token}")
