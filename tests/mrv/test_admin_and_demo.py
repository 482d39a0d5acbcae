"""The regulator staff's admin (read-only reports and audit trail) and the demo data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mrv.models import AuditEvent, Facility, Report, ReportRevision
from mrv.services.demo import demo_seed

pytestmark = pytest.mark.django_db


def test_demo_data_has_all_sectors_several_provinces_and_every_status() -> None:
    demo_seed()
    demo_seed()  # idempotent
    assert set(Facility.objects.values_list("sector", flat=True)) == {"cement", "steel", "aluminium"}
    assert Facility.objects.values("province").distinct().count() >= 4
    statuses = set(ReportRevision.objects.values_list("status", flat=True))
    assert statuses == set(ReportRevision.Status.values)
    assert Report.objects.filter(revision=2).exists()  # a returned report revised into a new draft
    call_command("verify_audit_chain")


def test_admin_lists_reports_and_audit_events_read_only(client) -> None:  # type: ignore[no-untyped-def]
    demo_seed()
    staff = get_user_model().objects.create_superuser("staff", "staff@example.org", "pw-123456789")
    client.force_login(staff)
    assert client.get("/admin/mrv/report/").status_code == 200
    assert client.get("/admin/mrv/facility/").status_code == 200
    assert client.get("/admin/mrv/auditevent/").status_code == 200
    report = Report.objects.exclude(status="draft").first()
    assert report is not None
    page = client.get(f"/admin/mrv/report/{report.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view only
    assert client.post(f"/admin/mrv/report/{report.pk}/delete/", {"post": "yes"}).status_code == 403
    event = AuditEvent.objects.first()
    assert event is not None
    assert client.post(f"/admin/mrv/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
