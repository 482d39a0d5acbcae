"""``manage.py audit_checkpoint``: sign every audit chain's head now, store the checkpoint, write it to
the checkpoint folder and print it (for an operator to archive away from the database server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mrv.services.audit import audit_checkpoint, checkpoint_document, checkpoint_path


class Command(BaseCommand):
    help = (
        "Sign every audit chain's head (HMAC under MRV_AUDIT_CHECKPOINT_KEY), store the checkpoint, write it "
        "to MRV_AUDIT_CHECKPOINT_DIR and print it. Celery beat does the same every "
        "MRV_AUDIT_CHECKPOINT_INTERVAL_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory",
            type=Path,
            default=None,
            help="where to write it (default MRV_AUDIT_CHECKPOINT_DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["directory"] or Path(settings.MRV_AUDIT_CHECKPOINT_DIR)
        checkpoint, new = audit_checkpoint(directory=folder)
        self.stdout.write(json.dumps(checkpoint_document(checkpoint), indent=1))
        state = "new" if new else "unchanged since the last one, which is"
        self.stderr.write(
            f"checkpoint {checkpoint.number} {state} written to {checkpoint_path(folder, checkpoint.number)}"
        )
