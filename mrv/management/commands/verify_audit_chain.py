"""``manage.py verify_audit_chain``: check every audit chain with the key, and the checkpoints; exit 1
on any fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mrv.models import AuditChainHead, AuditCheckpoint, AuditEvent
from mrv.services.audit import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail: every event of every chain unaltered under MRV_AUDIT_KEY, in sequence, "
        "none removed; every checkpoint signed and linked, and every chain head it names still there "
        "(checkpoints in the database and the files in --checkpoints)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="folder of checkpoint files archived outside the database (default MRV_AUDIT_CHECKPOINT_DIR)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["checkpoints"] or Path(settings.MRV_AUDIT_CHECKPOINT_DIR)
        faults = list(audit_chain_verify(checkpoint_dir=folder))
        for fault in faults:
            self.stderr.write(f"{fault.chain} #{fault.sequence}: {fault.problem}")
        if faults:
            raise CommandError(f"audit chain broken: {len(faults)} fault(s)")
        files = len(list(folder.glob("checkpoint-*.json"))) if folder.is_dir() else 0
        self.stdout.write(
            f"audit chain intact: {AuditEvent.objects.count()} events in {AuditChainHead.objects.count()} "
            f"chains; {AuditCheckpoint.objects.count()} checkpoints ({files} files in {folder})"
        )
