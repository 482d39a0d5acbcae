"""National aggregates on PostgreSQL over generated data: 10,000,000 activity lines of 5,000 facilities
in 31 provinces and 3 sectors over 5 years (25,000 verified reports of 400 lines each).

Measures ``aggregate_totals(group_by=[sector, province, year])`` (the rollup) against a plain GROUP BY
over the activity lines, in the same run; and the rollup's rebuild from scratch. ``BENCH_LINES_PER_REPORT``
scales the data down for a quick run.
"""

from __future__ import annotations

import os
import statistics
import time

from bench.common import report
from bench.reports import BENCH_DATABASE, fresh_database

FACILITIES = 5_000
YEARS = (2020, 2021, 2022, 2023, 2024)
PROVINCES = [
    "CN-AH", "CN-BJ", "CN-CQ", "CN-FJ", "CN-GD", "CN-GS", "CN-GX", "CN-GZ", "CN-HA", "CN-HB", "CN-HE", "CN-HI",
    "CN-HL", "CN-HN", "CN-JL", "CN-JS", "CN-JX", "CN-LN", "CN-NM", "CN-NX", "CN-QH", "CN-SC", "CN-SD", "CN-SH",
    "CN-SN", "CN-SX", "CN-TJ", "CN-XJ", "CN-XZ", "CN-YN", "CN-ZJ",
]  # fmt: skip

GENERATE = """
SET session_replication_role = replica;  -- bulk load of generated data: row guards off for this session
INSERT INTO mrv_organisation (name, kind, credit_code, created_at)
SELECT 'Bench operator ' || g, 'operator', lpad(g::text, 17, '0') || 'X', now() FROM generate_series(1, 1000) g;
INSERT INTO mrv_organisation (name, kind, credit_code, created_at)
VALUES ('Bench verifier', 'verification_body', 'V00000000000000000', now());
INSERT INTO mrv_facility (name, operator_id, sector, province, verification_body_id, created_at)
SELECT 'Bench facility ' || g,
       (SELECT min(id) FROM mrv_organisation) + (g %% 1000),
       (ARRAY['cement', 'steel', 'aluminium'])[1 + g %% 3],
       (%(provinces)s::text[])[1 + g %% 31],
       (SELECT id FROM mrv_organisation WHERE kind = 'verification_body'),
       now()
FROM generate_series(1, %(facilities)s) g;
INSERT INTO mrv_report (facility_id, year, month, revision, status, created_by_id, created_at)
SELECT f.id, y, NULL, 1, 'verified', %(user)s, now() FROM mrv_facility f CROSS JOIN unnest(%(years)s::int[]) y;
INSERT INTO mrv_reportrevision (report_id, number, status, methodology, methodology_version, totals, line_count,
                                digest, created_by_id, created_at, status_changed_at)
SELECT r.id, 1, 'verified', 'cn-mee-2024', %(version)s, '{}'::jsonb, %(lines)s, '', %(user)s, now(), now()
FROM mrv_report r;
INSERT INTO mrv_activityline (revision_id, index, ref, source, month, category, co2e, co2, cf4, c2f6,
                              biogenic_co2, uses_defaults, inputs)
SELECT v.id, g, 'l' || g,
       CASE g %% 4 WHEN 0 THEN 'fuel_combustion' WHEN 1 THEN 'carbonate' WHEN 2 THEN 'electricity' ELSE 'heat' END,
       1 + g %% 12,
       CASE g %% 4 WHEN 0 THEN 'combustion' WHEN 1 THEN 'process' WHEN 2 THEN 'indirect_electricity'
                  ELSE 'indirect_heat' END,
       round((100 + (v.id * 7 + g * 13) %% 9000)::numeric / 7, 12),
       round((100 + (v.id * 7 + g * 13) %% 9000)::numeric / 7, 12),
       0, 0, 0, (g %% 3 = 0), '{}'::jsonb
FROM mrv_reportrevision v CROSS JOIN generate_series(0, %(lines)s - 1) g;
SET session_replication_role = origin;
ANALYZE;
"""

PLAIN_GROUP_BY = """
SELECT f.sector, f.province, r.year, sum(l.co2e), sum(l.co2), sum(l.cf4), sum(l.c2f6)
FROM mrv_activityline l
JOIN mrv_reportrevision v ON v.id = l.revision_id
JOIN mrv_report r ON r.id = v.report_id
JOIN mrv_facility f ON f.id = r.facility_id
WHERE v.status = 'verified'
GROUP BY f.sector, f.province, r.year
"""


def run() -> dict[str, float]:
    lines_per_report = int(os.environ.get("BENCH_LINES_PER_REPORT", "400"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_AGGREGATES_DATABASE_URL", BENCH_DATABASE + "_aggregates"
    )
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    fresh_database(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model
    from django.db import connection

    import accounting
    from mrv.selectors.aggregates import aggregate_totals
    from mrv.services.rollup import rollup_rebuild

    user = get_user_model().objects.create_user("bench-aggregates")
    total_lines = FACILITIES * len(YEARS) * lines_per_report
    start = time.perf_counter()
    parameters = {
        "provinces": PROVINCES,
        "facilities": FACILITIES,
        "user": user.pk,
        "years": list(YEARS),
        "version": accounting.get("cn-mee-2024").version,
        "lines": lines_per_report,
    }
    with connection.cursor() as cursor:
        for statement in filter(None, (part.strip() for part in GENERATE.split(";\n"))):
            used = {name: value for name, value in parameters.items() if f"%({name})s" in statement}
            cursor.execute(statement, used)
    generated_s = time.perf_counter() - start

    start = time.perf_counter()
    rebuilt = rollup_rebuild(apply=True)
    rebuild_s = time.perf_counter() - start
    check = rollup_rebuild(apply=False)
    assert not check.differences, check.differences

    def national() -> dict:
        return aggregate_totals(group_by=["sector", "province", "year"], filters={})

    national()
    samples = []
    for _ in range(30):
        begin = time.perf_counter()
        answer = national()
        samples.append(time.perf_counter() - begin)
    rollup_p50 = statistics.median(samples)

    plain_samples = []
    for _ in range(3):
        begin = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(PLAIN_GROUP_BY)
            plain_rows = cursor.fetchall()
        plain_samples.append(time.perf_counter() - begin)
    plain_p50 = statistics.median(plain_samples)

    plain_total = sum(row[3] for row in plain_rows)
    assert abs(plain_total - answer["totals"]["total"]) < 1, (plain_total, answer["totals"]["total"])
    assert len(answer["results"]) == len(plain_rows)
    report(
        f"aggregates on PostgreSQL: {total_lines:,} activity lines, {rebuilt.reports:,} verified reports",
        [
            ("generate data (SQL)", f"{generated_s:7.1f} s"),
            ("rebuild rollup from scratch", f"{rebuild_s:7.1f} s"),
            (
                "national group_by sector,province,year",
                f"{rollup_p50 * 1000:7.1f} ms p50 of 30  (goal < 50 ms)",
            ),
            ("plain GROUP BY over the lines", f"{plain_p50 * 1000:7.1f} ms p50 of 3"),
            ("plain / rollup", f"{plain_p50 / rollup_p50:7.0f} x"),
            ("rows, national total agree", f"{len(plain_rows)} rows, {answer['totals']['total']:.6f} t CO2e"),
        ],
    )
    return {"rollup_ms": rollup_p50 * 1000, "ratio": plain_p50 / rollup_p50}
