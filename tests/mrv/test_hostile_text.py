"""Hostile text in every text field a client can send never answers 5xx and never stores what breaks a read.

Property-based (hypothesis) on PostgreSQL, which refuses NUL in text and lone surrogates in UTF-8: strings
of control characters, NUL, lone surrogates, bidirectional overrides, line and paragraph separators,
very long strings, and plain text mixed with them, sent as a client sends them (JSON with ``\\uXXXX``
escapes, a query string percent-encoded, a CSV file's cells) into:

* activity lines (ref, source, fuel and material codes, units, the methodology) through
  ``POST /api/v1/calculate/``, report create and the line import;
* organisation and facility names (and a credit code) through the regulator's endpoints;
* a verifier's finding (code, detail, line ref) and opinion statement;
* a monitoring plan (source ref and description, parameter fields, quality assurance, a decision's
  comment); an API token's name;
* every query parameter of every GET operation in openapi.yaml, and the path's code of a methodology.

Every answer is below 500 and a 4xx is a problem document; whatever was accepted is read back
(detail, lists, checks, audit events, in English and in Chinese, and a submitted report's copy of
record) with 200. Example counts are small and derandomized: the file runs in well under a minute.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mrv.models import VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body
from tests.mrv.test_monitoring_plans import body as plan_body
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Characters a hostile client reaches for: C0 and C1 controls (NUL first), DEL, lone surrogates,
#: bidirectional and zero-width marks, the BOM, line and paragraph separators, non-characters.
NASTY = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(
        ["\u200b", "\u200e", "\u202e", "\u2066", "\ufeff", "\u2028", "\u2029", "\ufffe", "\U0010ffff"]
    ),
)


def hostile(longest: int = 300_000) -> st.SearchStrategy[str]:
    """Hostile strings of at most ``longest`` characters (a few long ones among them)."""
    return st.one_of(
        st.text(NASTY, min_size=1, max_size=12),
        st.text(st.one_of(NASTY, st.characters(codec="utf-8")), min_size=1, max_size=40),
        st.builds(
            lambda part, length: (part * length)[:length],
            st.text(NASTY, min_size=1, max_size=3),
            st.integers(min(1_000, longest), min(40_000, longest)),
        ),
        st.builds(
            lambda length: "x" * length, st.integers(min(5_000, longest), longest)
        ),  # long, nothing else odd
        st.sampled_from(["\x00", "t\x00", "\ud800", "a\udfffb", "\x1b[2J", "t\u202e", "=cmd|' /C calc'!A0"]),
    )


HOSTILE = hostile()
LANGS = st.sampled_from(["en", "zh-Hans"])
OPENAPI = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


@pytest.fixture(autouse=True)
def _on_postgresql() -> None:
    assert connection.vendor == "postgresql", "PostgreSQL's text rules are the point: run with make test"


def send(client: Any, method: str, path: str, body: Any, lang: str = "en") -> Any:
    """``body`` as a client's JSON: lone surrogates and NUL as ``\\uXXXX`` escapes (json.dumps's ASCII)."""
    response = client.generic(
        method, path, json.dumps(body).encode(), content_type="application/json", HTTP_ACCEPT_LANGUAGE=lang
    )
    return answered(response, f"{method} {path}")


def answered(response: Any, what: str) -> Any:
    """No 5xx; a 4xx is a problem document with its errors."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:500]!r}"
    event(f"{what.split(' ')[0]} {response.status_code // 100}xx")  # --hypothesis-show-statistics
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), (what, response.content[:300])
        document = json.loads(response.content)
        assert document["status"] == response.status_code and document["title"], document
    return response


def reads(client: Any, *paths: str) -> None:
    """What was stored reads back: each path answers 200 in English and in Chinese."""
    for path in paths:
        for lang in ("en", "zh-Hans"):
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
            assert response.status_code == 200, (path, lang, response.status_code, response.content[:500])


def fuel_line(ref: str = "boiler", fuel: str = "bituminous_coal", unit: str = "t") -> dict[str, Any]:
    return {
        "ref": ref,
        "source": "fuel_combustion",
        "fuel": fuel,
        "quantity": {"value": "1000", "unit": unit},
    }


# -- activity lines ----------------------------------------------------------------------------------
@EXAMPLES
@given(
    text=HOSTILE,
    field=st.sampled_from(["ref", "fuel", "unit", "material", "source", "methodology"]),
    lang=LANGS,
)
def test_calculate_takes_hostile_text_in_any_line_field(
    world: World, text: str, field: str, lang: str
) -> None:
    body: dict[str, Any] = {"lines": [fuel_line()]}
    if field == "unit":
        body["lines"][0]["quantity"]["unit"] = text
    elif field == "material":
        body["lines"] = [
            {"ref": "l", "source": "carbonate", "material": text, "quantity": {"value": "1", "unit": "t"}}
        ]
    elif field == "methodology":
        body["methodology"] = text
    else:
        body["lines"][0][field] = text
    send(world.client("operator_a"), "POST", "/api/v1/calculate/", body, lang)


PERIODS = itertools.count()


@EXAMPLES
@given(text=HOSTILE, field=st.sampled_from(["ref", "fuel", "unit", "methodology_version"]), lang=LANGS)
def test_report_create_takes_hostile_text_and_what_it_stores_reads_back(
    world: World, text: str, field: str, lang: str
) -> None:
    n = next(PERIODS)
    body = report_body(world.facility_a, year=2000 + n // 12, month=n % 12 + 1)
    body["lines"] = [fuel_line()]
    if field == "unit":
        body["lines"][0]["quantity"]["unit"] = text
    elif field == "methodology_version":
        body["methodology_version"] = text
    else:
        body["lines"][0][field] = text
    client = world.client("operator_a")
    response = send(client, "POST", "/api/v1/reports/", body, lang)
    if response.status_code == 201:
        report = response.json()["id"]
        reads(
            client,
            f"/api/v1/reports/{report}/",
            f"/api/v1/reports/{report}/checks/",
            f"/api/v1/reports/{report}/revisions/",
            "/api/v1/reports/",
            "/api/v1/audit-events/",
        )


@settings(EXAMPLES, max_examples=6)
@given(ref=hostile(200))
def test_a_submitted_report_with_a_hostile_ref_is_checked_and_rendered(world: World, ref: str) -> None:
    """A ref the service accepted goes through the checks, the verifier's view and the copy of record."""
    n = next(PERIODS)
    lines = plausible_cement()
    lines[0]["ref"] = ref
    body = {"facility": world.facility_a.pk, "year": 2000 + n // 12, "month": n % 12 + 1, "lines": lines}
    operator = world.client("operator_a")
    created = send(operator, "POST", "/api/v1/reports/", body)
    if created.status_code != 201:
        return
    report = created.json()["id"]
    assert (
        answered(
            operator.post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json"), "submit"
        ).status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report, kind="verification")
    checks_run(job_id=job.pk)
    reads(operator, f"/api/v1/reports/{report}/revisions/1/copy-of-record.pdf", f"/api/v1/reports/{report}/")
    reads(world.client("verifier_a"), f"/api/v1/verification-jobs/{job.pk}/", "/api/v1/verification-jobs/")


@EXAMPLES
@given(
    text=hostile(3000),
    column=st.sampled_from(["ref", "fuel", "quantity_unit"]),
)
def test_line_import_takes_hostile_cells(world: World, text: str, column: str) -> None:
    n = next(PERIODS)
    client = world.client("operator_a")
    body = report_body(world.facility_a, year=2000 + n // 12, month=n % 12 + 1)
    body["lines"] = [fuel_line()]
    report = send(client, "POST", "/api/v1/reports/", body).json()["id"]
    row = {
        "ref": "boiler",
        "source": "fuel_combustion",
        "fuel": "bituminous_coal",
        "quantity": "1",
        "quantity_unit": "t",
    }
    row[column] = text
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    content = out.getvalue().encode("utf-8", "surrogatepass")  # a lone surrogate as a client's bad bytes
    response = client.post(
        f"/api/v1/reports/{report}/lines/import/",
        {"file": SimpleUploadedFile("lines.csv", content)},
        format="multipart",
    )
    answered(response, "import")
    reads(client, f"/api/v1/reports/{report}/", f"/api/v1/reports/{report}/checks/")


# -- the regulator's registers ---------------------------------------------------------------------------
@EXAMPLES
@given(text=HOSTILE, field=st.sampled_from(["organisation", "credit_code", "facility", "facility_patch"]))
def test_organisation_and_facility_names_take_hostile_text(world: World, text: str, field: str) -> None:
    regulator = world.client("regulator")
    if field in {"organisation", "credit_code"}:
        body = {"name": text if field == "organisation" else "Org", "kind": "operator"}
        body["credit_code"] = text if field == "credit_code" else "91110000MA01ABCD2X"
        response = send(regulator, "POST", "/api/v1/organisations/", body)
        if response.status_code == 201:
            reads(regulator, f"/api/v1/organisations/{response.json()['id']}/", "/api/v1/organisations/")
        return
    if field == "facility":
        body = {"name": text, "operator": world.facility_a.operator_id, "sector": "cement", "province": "11"}
        response = send(regulator, "POST", "/api/v1/facilities/", body)
        facility = response.json().get("id") if response.status_code == 201 else None
    else:
        response = send(regulator, "PATCH", f"/api/v1/facilities/{world.facility_a.pk}/", {"name": text})
        facility = world.facility_a.pk if response.status_code == 200 else None
    if facility is not None:
        reads(regulator, f"/api/v1/facilities/{facility}/", "/api/v1/facilities/", "/api/v1/audit-events/")
        reads(world.client("operator_a"), "/api/v1/facilities/", "/api/v1/reports/")


# -- verification -----------------------------------------------------------------------------------------
def claimed_job(world: World) -> int:
    """A submitted report's verification job, checked and claimed by verifier_a (a new period each time)."""
    n = next(PERIODS)
    body = {
        "facility": world.facility_a.pk,
        "year": 2000 + n // 12,
        "month": n % 12 + 1,
        "lines": plausible_cement(),
    }
    report = world.client("operator_a").post("/api/v1/reports/", body, format="json").json()["id"]
    assert (
        world.client("operator_a")
        .post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json")
        .status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report, kind="verification")
    checks_run(job_id=job.pk)
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    return job.pk


@pytest.fixture
def job(world: World) -> int:
    return claimed_job(world)


@EXAMPLES
@given(text=HOSTILE, field=st.sampled_from(["detail", "line_ref", "code"]), lang=LANGS)
def test_findings_take_hostile_text(world: World, job: int, text: str, field: str, lang: str) -> None:
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job}/"
    body = {"code": "observed", "severity": "info", "detail": "noted", field: text}
    response = send(verifier, "POST", url + "findings/", body, lang)
    if response.status_code == 201:
        reads(verifier, url, "/api/v1/verification-jobs/", "/api/v1/audit-events/")
        reads(world.client("operator_a"), url)


@settings(EXAMPLES, max_examples=5)
@given(statement=HOSTILE)
def test_opinion_statements_take_hostile_text(world: World, statement: str) -> None:
    job = claimed_job(world)
    url = f"/api/v1/verification-jobs/{job}/"
    response = send(
        world.client("verifier_a"),
        "POST",
        url + "opinion/",
        {"opinion": "not_verified", "statement": statement},
    )
    if response.status_code == 200:
        reads(world.client("verifier_a"), url, "/api/v1/verification-jobs/")
        reads(world.client("operator_a"), url, "/api/v1/reports/", "/api/v1/audit-events/")


# -- monitoring plans and tokens -----------------------------------------------------------------------------
@EXAMPLES
@given(
    text=HOSTILE,
    field=st.sampled_from(
        ["ref", "description", "method", "instrument", "frequency", "tier", "quality_assurance"]
    ),
)
def test_monitoring_plans_take_hostile_text(world: World, text: str, field: str) -> None:
    body = plan_body(world)
    n = next(PERIODS)
    body["valid_from"] = f"{2000 + n // 12}-{n % 12 + 1:02d}-01"
    if field == "quality_assurance":
        body[field] = text
    elif field in {"ref", "description"}:
        body["sources"][1][field] = text
    else:
        body["sources"][1]["parameters"]["ncv"][field] = text
    operator = world.client("operator_a")
    response = send(operator, "POST", "/api/v1/monitoring-plans/", body)
    if response.status_code != 201:
        return
    plan = response.json()["id"]
    reads(operator, f"/api/v1/monitoring-plans/{plan}/", "/api/v1/monitoring-plans/")
    assert (
        answered(operator.post(f"/api/v1/monitoring-plans/{plan}/submit/"), "submit plan").status_code == 200
    )
    regulator = world.client("regulator")
    send(regulator, "POST", f"/api/v1/monitoring-plans/{plan}/return/", {"comment": text})
    reads(regulator, f"/api/v1/monitoring-plans/{plan}/", "/api/v1/audit-events/")


@EXAMPLES
@given(name=HOSTILE)
def test_token_names_take_hostile_text(world: World, name: str) -> None:
    client = world.client("operator_b")
    response = send(client, "POST", "/api/v1/auth/tokens/", {"name": name})
    if response.status_code == 201:
        reads(client, "/api/v1/auth/tokens/", f"/api/v1/auth/tokens/{response.json()['id']}/")


# -- query parameters --------------------------------------------------------------------------------------------
QUERIES = sorted(
    (path, parameter["name"])
    for path, item in OPENAPI["paths"].items()
    if "get" in item and "{" not in path
    for parameter in item["get"].get("parameters", [])
    if parameter["in"] == "query"
)


@EXAMPLES
@given(
    text=hostile(4000),
    query=st.sampled_from([*QUERIES, ("/api/v1/methodologies/{}/", "")]),
    role=st.sampled_from(["operator_a", "verifier_a", "regulator"]),
)
def test_query_parameters_take_hostile_text(
    world: World, text: str, query: tuple[str, str], role: str
) -> None:
    assert len(QUERIES) > 20  # every GET operation's parameters, read from openapi.yaml
    path, name = query
    encoded = quote(text.encode("utf-8", "surrogatepass"), safe="")  # what a client puts on the wire
    client = world.client(role)
    with_text = (
        {"path": path.format(encoded)}
        if "{}" in path
        else {"path": path, "QUERY_STRING": f"{name}={encoded}"}
    )
    response = client.get(**with_text)
    answered(response, f"GET {path}?{name}=")
