"""The reporting workflow through the API: drafts, submit (freeze), revise, idempotency, audit."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.core.management import call_command

from mrv.domain.canonical import canonical_json
from mrv.domain.certification import STATEMENT
from mrv.models import AuditEvent, Certification, Membership, Report, ReportRevision
from mrv.services.reports import revision_transition
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines, report_body

pytestmark = pytest.mark.django_db


def create(world: World, **extra: Any) -> dict[str, Any]:
    response = world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a, **extra), format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_returns_a_calculated_draft(world: World) -> None:
    body = create(world)
    assert body["status"] == "draft" and body["revision"] == 1 and body["digest"] is None
    assert body["methodology"] == "cn-mee-2024" and body["methodology_version"]
    assert len(body["results"]) == len(body["lines"]) == len(lines("cement"))
    assert body["results"][2]["co2e"] == "246395.688"  # kiln coal, as in the worked example
    assert body["totals"]["reported"]["direct"].isdigit()
    assert body["intensity"]["product"] == "clinker"
    assert body["lines"][0] == lines("cement")[0]  # inputs kept exactly as given


def test_second_report_for_the_same_period_is_a_conflict(world: World) -> None:
    create(world)
    response = world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a), format="json"
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


def test_bad_lines_are_400_with_pointers_and_nothing_is_stored(world: World) -> None:
    body = report_body(world.facility_a)
    body["lines"][2]["ncv"] = {"value": "23", "unit": "t"}
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/lines/2/ncv/unit"
    assert not Report.objects.exists()


def test_draft_edit_submit_freeze(world: World) -> None:
    client = world.client("operator_a")
    report = create(world)
    url = f"/api/v1/reports/{report['id']}/"
    edited = client.patch(url, {"lines": lines("cement")[:3]}, format="json")
    assert edited.status_code == 200 and len(edited.json()["lines"]) == 3

    submitted = client.post(url + "submit/", {"certify": True}, format="json")
    assert submitted.status_code == 202
    assert submitted.json()["status"] == "submitted"
    digest = submitted.json()["digest"]
    expected = hashlib.sha256(
        canonical_json(
            {
                "facility": world.facility_a.pk,
                "year": 2024,
                "month": None,
                "methodology": "cn-mee-2024",
                "methodology_version": report["methodology_version"],
                "lines": lines("cement")[:3],
                # The submitter's sign-off (issue 16) is covered by the digest too.
                "certification": {
                    "statement": STATEMENT,
                    "name": world.operator_a.user.username,
                    "organisation": Membership.objects.get(user=world.operator_a.user).organisation_id,
                    "at": Certification.objects.get(revision__report_id=report["id"]).at.isoformat(),
                },
            }
        )
    ).hexdigest()
    assert digest == expected

    assert client.patch(url, {"lines": lines("cement")}, format="json").status_code == 409
    assert client.delete(url).status_code == 409
    assert client.post(url + "submit/", {"certify": True}, format="json").status_code == 409
    assert client.post(url + "revise/").status_code == 409  # only returned or verified reports
    assert client.get(url).json()["status"] == "submitted"


def test_revise_a_returned_report_opens_a_new_draft_and_keeps_history(world: World) -> None:
    client = world.client("operator_a")
    report = create(world)
    url = f"/api/v1/reports/{report['id']}/"
    client.post(url + "submit/", {"certify": True}, format="json")
    first = ReportRevision.objects.get(report_id=report["id"], number=1)
    revision_transition(revision=first, status="in_verification")
    revision_transition(revision=first, status="returned")

    revised = client.post(url + "revise/")
    assert revised.status_code == 201
    assert revised.json()["revision"] == 2 and revised.json()["status"] == "draft"
    assert client.get(url).json()["lines"] == lines("cement")
    history = client.get(url + "revisions/").json()["results"]
    assert [(r["revision"], r["status"]) for r in history] == [(1, "returned"), (2, "draft")]
    assert history[0]["digest"] and not history[1]["digest"]
    # the verifier sees the returned revision, not the operator's new draft
    assert world.client("verifier_a").get(url).json()["revision"] == 1
    # discarding the draft correction keeps the report and its returned revision
    assert client.delete(url).status_code == 204
    assert client.get(url).json()["revision"] == 1


def test_idempotent_create_replays_and_refuses_a_different_body(world: World) -> None:
    client = world.client("operator_a")
    body = report_body(world.facility_a)
    first = client.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == json.loads(json.dumps(first.json()))
    assert again["Idempotent-Replayed"] == "true"
    assert Report.objects.count() == 1
    other = client.post(
        "/api/v1/reports/",
        report_body(world.facility_a, year=2023),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_idempotent_submit_answers_the_same_result_once(world: World) -> None:
    client = world.client("operator_a")
    report = create(world)
    url = f"/api/v1/reports/{report['id']}/submit/"
    first = client.post(url, {"certify": True}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    again = client.post(url, {"certify": True}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["digest"] == again.json()["digest"]
    assert AuditEvent.objects.filter(action="revision.submit").count() == 1


def test_every_write_is_audited_and_the_chain_verifies(world: World) -> None:
    client = world.client("operator_a")
    report = create(world)
    client.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["report.create", "revision.submit"]
    assert "facility.create" in actions and "organisation.create" in actions
    submit = AuditEvent.objects.get(action="revision.submit")
    assert submit.after_digest == client.get(f"/api/v1/reports/{report['id']}/").json()["digest"]
    assert submit.actor_name == world.operator_a.user.username
    call_command("verify_audit_chain")


def test_audit_events_are_scoped(world: World) -> None:
    create(world)
    mine = world.client("operator_a").get("/api/v1/audit-events/?page_size=1000").json()["results"]
    theirs = world.client("operator_b").get("/api/v1/audit-events/?page_size=1000").json()["results"]
    everything = world.client("regulator").get("/api/v1/audit-events/?page_size=1000").json()["results"]
    assert any(e["action"] == "report.create" for e in mine)
    assert not any(e["action"] == "report.create" for e in theirs)
    assert len(everything) > len(mine)
