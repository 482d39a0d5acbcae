"""Per-user quotas on the heavy endpoints: activity lines per period on calculate and imports."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from mrv.api.quotas import csv_rows, xlsx_rows
from mrv.domain import linefiles
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines, report_body

pytestmark = pytest.mark.django_db


def coal(n: int) -> list[dict[str, Any]]:
    return [
        {
            "ref": f"coal-{i}",
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": {"value": "100", "unit": "t"},
        }
        for i in range(n)
    ]


def calculate(client: Any, n: int) -> Any:
    return client.post(
        "/api/v1/calculate/", {"sector": "cement", "year": 2024, "lines": coal(n)}, format="json"
    )


def assert_over_quota(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_calculate_counts_lines_per_user_and_a_refused_request_costs_nothing(settings: Any) -> None:
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_lines": "10/min"}
    user, other = factories.api_user(), factories.api_user()
    client = factories.client_for(user)
    assert calculate(client, 6).status_code == 200
    assert_over_quota(calculate(client, 6))  # 12 > 10
    assert calculate(client, 4).status_code == 200  # 6 + 4: the refused 6 were not charged
    assert_over_quota(calculate(client, 1))
    assert calculate(factories.client_for(other), 10).status_code == 200  # per user


def test_imports_count_the_rows_of_the_file(world: World, settings: Any) -> None:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()["id"]
    template = client.get("/api/v1/reports/lines/template/?sector=cement&format=csv").content
    rows = csv_rows(template)
    assert rows == len(lines("cement"))
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_lines": f"{rows + 1}/min"}

    def upload(name: str, content: bytes) -> Any:
        return client.post(
            f"/api/v1/reports/{report}/lines/import/?dry_run=true",
            {"file": SimpleUploadedFile(name, content)},
            format="multipart",
        )

    assert upload("lines.csv", template).status_code == 200
    assert_over_quota(upload("lines.csv", template))  # 2 × rows > rows + 1
    xlsx = client.get("/api/v1/reports/lines/template/?sector=cement&format=xlsx").content
    assert xlsx_rows(xlsx) == rows
    assert_over_quota(upload("lines.xlsx", xlsx))
    # a file without data rows costs nothing: refused for what it is (400), not for the quota
    assert upload("empty.csv", b"ref,source\n").status_code == 400


def test_row_counts_without_parsing() -> None:
    assert csv_rows(b"ref,source\na,b\nc,d\n") == 2
    assert csv_rows(b"ref,source\na,b\nc,d") == 2
    assert csv_rows(b"ref,source\n") == 0
    assert csv_rows(b"") == 0
    workbook = Workbook()
    sheet = workbook.active
    for row in range(30):
        sheet.append([f"r{row}", "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert xlsx_rows(buffer.getvalue()) == 29  # declared: <dimension ref="A1:B30"/>
    streamed = linefiles.write(
        ["ref", "source"], [{"ref": f"r{i}", "source": "x"} for i in range(40)], "xlsx"
    )
    assert b"<dimension" not in streamed and xlsx_rows(streamed) == 40  # counted: <row> tags
    assert xlsx_rows(b"not a workbook") == linefiles.MAX_ROWS + 1
