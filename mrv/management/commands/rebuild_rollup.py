"""``manage.py rebuild_rollup [--check]``: recompute the verified-totals rollup from the activity lines.

Compares the recomputed rows with the incrementally maintained ones first: ``--check`` only reports
(exit 1 on a difference); without it the tables are replaced by the recomputed rows.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mrv.services.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the rollup of verified totals from scratch and compare it with the incremental state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="compare only; exit 1 on any difference")

    def handle(self, *args: Any, **options: Any) -> None:
        result = rollup_rebuild(apply=not options["check"])
        for difference in result.differences:
            self.stderr.write(difference)
        if options["check"] and result.differences:
            raise CommandError("the rollup differs from a rebuild from scratch")
        state = "equal to" if not result.differences else "different from (now replaced by)"
        self.stdout.write(
            f"rollup of {result.reports} verified report(s): incremental state {state} the rebuild"
        )
