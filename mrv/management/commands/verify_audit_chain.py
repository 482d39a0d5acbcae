"""``manage.py verify_audit_chain``: recompute the audit hash chain; exit 1 on any fault."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mrv.models import AuditEvent
from mrv.services.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain: every event unaltered, in sequence, none removed."

    def handle(self, *args: Any, **options: Any) -> None:
        faults = list(audit_chain_verify())
        for fault in faults:
            self.stderr.write(f"event {fault.sequence}: {fault.problem}")
        if faults:
            raise CommandError(f"audit chain broken: {len(faults)} fault(s)")
        self.stdout.write(f"audit chain intact: {AuditEvent.objects.count()} events")
