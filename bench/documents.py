"""The copy of record of a 1,000-line report on PostgreSQL: the PDF of a submitted revision, in Chinese and
in English (goal: under 5 s).

Figures: the whole request (``GET .../copy-of-record.pdf``: lookups, the revision's frozen data, its
recalculation for the parameters and their origins, ReportLab's layout with the embedded CJK font) and
the rendering alone, medians of three after a warm-up (which registers the font once per process). The
benchmark uses a database of its own (``mrv_bench_documents``, recreated every run).
"""

from __future__ import annotations

import os
import time

from bench.common import report, timed
from bench.reports import fresh_database
from bench.workload import sector_report

LINES = 1_000
GOAL_S = 5.0
BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench_documents"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DOCUMENTS_DATABASE_URL", BENCH_DATABASE)
    fresh_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def run() -> dict[str, float]:
    _setup()
    from django.test import Client

    from mrv.documents.copy_of_record import render
    from mrv.models import Membership
    from mrv.selectors.records import copy_of_record
    from mrv.services.facilities import facility_create
    from mrv.services.reports import report_create, report_submit
    from mrv.services.users import user_create_with_token

    stamp = str(time.time_ns())
    operator, token = user_create_with_token(
        username=f"bench-op-{stamp}", role="operator", organisation_name=f"宝山钢铁股份有限公司 {stamp}"
    )
    regulator, _ = user_create_with_token(
        username=f"bench-reg-{stamp}", role="regulator", organisation_name=f"Bench Authority {stamp}"
    )
    facility = facility_create(
        by=regulator,
        name="宝山基地炼钢厂",
        operator=Membership.objects.get(user=operator).organisation,
        sector="steel",
        province="CN-SH",
    )
    lines = [{**line, "ref": f"line-{index:04d}"} for index, line in enumerate(sector_report("steel", LINES))]
    draft = report_create(
        by=operator, facility=facility, year=2024, month=None, methodology=None, lines=lines
    )
    revision = report_submit(by=operator, report=draft.report)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="localhost")
    url = f"/api/v1/reports/{draft.report.pk}/revisions/{revision.number}/copy-of-record.pdf"

    def request(language: str) -> bytes:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.content[:300]
        return response.content

    chinese_s, pdf = timed(lambda: request("zh-Hans"), repeat=3)
    english_s, _ = timed(lambda: request("en"), repeat=3)
    record = copy_of_record(revision=revision)
    render_s, _ = timed(lambda: render(record, language="zh-hans"), repeat=3)
    data_s, _ = timed(lambda: copy_of_record(revision=revision), repeat=3)
    pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
    report(
        f"Copy of record of a {LINES:,}-line report (goal < {GOAL_S:.0f} s)",
        [
            ("request, zh-Hans", f"{chinese_s:.2f} s ({len(pdf) / 1024:.0f} KiB, about {pages} pages)"),
            ("request, en", f"{english_s:.2f} s"),
            ("frozen data and recalculation", f"{data_s:.2f} s"),
            ("ReportLab rendering, zh-Hans", f"{render_s:.2f} s"),
            ("goal met", "yes" if max(chinese_s, english_s) < GOAL_S else "NO"),
        ],
    )
    return {"request_zh_s": chinese_s, "request_en_s": english_s, "render_s": render_s, "data_s": data_s}
