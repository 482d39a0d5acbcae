"""Reporting on PostgreSQL: a 10,000-line JSON report validated, calculated and stored; and the
50-line report path (create and submit) against a bare Django view that only bulk-inserts the same
rows, measured in the same run on the same database."""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from bench.common import interleaved, report
from bench.workload import sector_report

BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench"


#: The submitter's sign-off a submit carries (issue 16).
CERTIFY = json.dumps({"certify": True})


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's own database (never the service's) so every run starts equal."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    assert name.startswith("mrv_bench"), "benchmarks only ever recreate a database named mrv_bench*"
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", BENCH_DATABASE)
    fresh_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _bare_view(revision_id: int) -> Any:
    """The baseline: parse the JSON body and bulk-insert one row per line, nothing else."""
    from decimal import Decimal

    from django.http import JsonResponse
    from django.views.decorators.csrf import csrf_exempt

    from mrv.models import ActivityLine

    offsets = iter(range(1, 10**9, 1000))

    @csrf_exempt
    def view(request: Any) -> Any:
        body = json.loads(request.body, parse_float=Decimal)
        offset = next(offsets)
        rows = [
            ActivityLine(
                revision_id=revision_id,
                index=index + offset,
                ref=str(index),
                source=line["source"],
                month=line.get("month"),
                category="",
                co2e=0,
                co2=0,
                cf4=0,
                c2f6=0,
                biogenic_co2=0,
                inputs=json.loads(json.dumps(line, default=str)),
            )
            for index, line in enumerate(body["lines"])
        ]
        ActivityLine.objects.bulk_create(rows)
        return JsonResponse({"stored": len(rows)}, status=201)

    return view


def run() -> dict[str, float]:
    _setup()
    from django.db import connection
    from django.test import Client

    from mrv.models import Facility, Membership
    from mrv.services.facilities import facility_create
    from mrv.services.reports import report_create
    from mrv.services.users import user_create_with_token

    stamp = str(time.time_ns())
    operator, token = user_create_with_token(
        username=f"bench-op-{stamp}", role="operator", organisation_name=f"Bench Operator {stamp}"
    )
    regulator, _ = user_create_with_token(
        username=f"bench-reg-{stamp}", role="regulator", organisation_name=f"Bench Authority {stamp}"
    )
    organisation = Membership.objects.get(user=operator).organisation
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="localhost")
    periods = iter([(year, month) for year in range(2024, 2101) for month in range(1, 13)])

    def new_facility(sector: str) -> Facility:
        return facility_create(
            by=regulator,
            name=f"{sector} {time.time_ns()}",
            operator=organisation,
            sector=sector,
            province="CN-JS",
        )

    # -- a 10,000-line report as JSON -------------------------------------------------------------------
    big_lines = sector_report("steel", 10_000)
    samples = []
    for _ in range(3):
        facility = new_facility("steel")
        body = json.dumps({"facility": facility.pk, "year": 2024, "lines": big_lines})
        start = time.perf_counter()
        created = client.post("/api/v1/reports/", body, content_type="application/json")
        assert created.status_code == 201, created.content[:300]
        submitted = client.post(
            f"/api/v1/reports/{created.json()['id']}/submit/", CERTIFY, content_type="application/json"
        )
        assert submitted.status_code == 202, submitted.content[:300]
        samples.append(time.perf_counter() - start)
    big_s = statistics.median(samples)

    # -- 50-line reports: our path against a bare bulk-insert view ------------------------------------------
    small_lines = sector_report("cement", 50)
    facility = new_facility("cement")

    def ours() -> None:
        year, month = next(periods)
        body = json.dumps({"facility": facility.pk, "year": year, "month": month, "lines": small_lines})
        created = client.post("/api/v1/reports/", body, content_type="application/json")
        assert created.status_code == 201, created.content[:300]
        submitted = client.post(
            f"/api/v1/reports/{created.json()['id']}/submit/", CERTIFY, content_type="application/json"
        )
        assert submitted.status_code == 202

    def ours_create_only() -> None:
        year, month = next(periods)
        body = json.dumps({"facility": facility.pk, "year": year, "month": month, "lines": small_lines})
        assert client.post("/api/v1/reports/", body, content_type="application/json").status_code == 201

    draft = report_create(
        by=operator,
        facility=new_facility("cement"),
        year=2024,
        month=None,
        methodology=None,
        lines=small_lines[:1],
    )
    bare_view = _bare_view(draft.revision.pk)
    bare_body = json.dumps({"lines": small_lines})
    # The bare view is served through the same middleware and handler stack as the API.
    from django.urls import clear_url_caches, path

    import config.urls

    config.urls.urlpatterns.append(path("bench/bare/", bare_view))
    clear_url_caches()
    bare_client = Client(HTTP_HOST="localhost")

    def baseline() -> None:
        assert bare_client.post("/bench/bare/", bare_body, content_type="application/json").status_code == 201

    # Interleaved: each round times the baseline and both of our paths back to back, so that the
    # machine's drift (other processes, throttling) falls on all three alike; medians of 60 rounds.
    bare_s, create_s, ours_s = interleaved([baseline, ours_create_only, ours], rounds=60, warmup=5)
    report(
        f"reports on {connection.vendor} (in-process Django test client, sequential requests)",
        [
            ("10,000-line report: POST + submit", f"{big_s:6.2f} s  (goal < 3 s)"),
            ("bare view: bulk-insert 50 rows", f"{1 / bare_s:6.0f} req/s"),
            (
                "POST /reports/ (50 lines)",
                f"{1 / create_s:6.0f} req/s  ratio {bare_s / create_s:4.2f} x bare  (goal >= 0.8)",
            ),
            (
                "POST /reports/ + submit (50 lines)",
                f"{1 / ours_s:6.0f} reports/s  ratio {bare_s / ours_s:4.2f} x bare",
            ),
        ],
    )
    return {"big_report_s": big_s, "create_vs_bare": bare_s / create_s}
