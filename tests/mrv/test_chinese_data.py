"""Data as Chinese plants write it, through the API: Chinese unit spellings (shown back in the canonical
spelling), full-width digits refused with a hint, GB18030 CSV files with Chinese headers and 万Nm3 units,
the zh-Hans template, and CSV exports with a UTF-8 byte order mark on request."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from mrv.domain import headers
from mrv.services.facilities import facility_create
from mrv.services.reports import report_create
from tests.mrv.factories import World

CALCULATE = "/api/v1/calculate/"


def _calculate(client: APIClient, line: dict[str, Any], **headers: str) -> Any:
    return client.post(CALCULATE, {"methodology": "cn-mee-2024", "lines": [line]}, format="json", **headers)


def _gas(unit: str, value: str = "12.5") -> dict[str, Any]:
    return {
        "ref": "ng",
        "source": "fuel_combustion",
        "fuel": "natural_gas",
        "quantity": {"value": value, "unit": unit},
    }


# -- units ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "parameter", "value", "unit"),
    [
        (_gas("万Nm3"), "quantity", "12.5", "10^4 Nm3"),
        (_gas("万标立方米"), "quantity", "12.5", "10^4 Nm3"),
        (_gas("标立方米", "125000"), "quantity", "12.5", "10^4 Nm3"),
        (
            {
                "ref": "c",
                "source": "fuel_combustion",
                "fuel": "bituminous_coal",
                "quantity": {"value": "2", "unit": "万吨"},
            },
            "quantity",
            "20000",
            "t",
        ),
        (
            {
                "ref": "c",
                "source": "fuel_combustion",
                "fuel": "bituminous_coal",
                "quantity": {"value": "3", "unit": "千吨"},
            },
            "quantity",
            "3000",
            "t",
        ),
        (
            {
                "ref": "c",
                "source": "fuel_combustion",
                "fuel": "bituminous_coal",
                "quantity": {"value": "7", "unit": "吨"},
            },
            "quantity",
            "7",
            "t",
        ),
        (
            {
                "ref": "c",
                "source": "fuel_combustion",
                "fuel": "bituminous_coal",
                "quantity": {"value": "1000", "unit": "t"},
                "ncv": {"value": "5000", "unit": "千卡/千克"},
            },
            "ncv",
            "20.934",
            "GJ/t",
        ),
        (
            {
                "ref": "g",
                "source": "fuel_combustion",
                "fuel": "natural_gas",
                "quantity": {"value": "10", "unit": "万Nm3"},
                "ncv": {"value": "389.31", "unit": "吉焦/万标立方米"},
            },
            "ncv",
            "389.31",
            "GJ/10^4 Nm3",
        ),
        (
            {"ref": "e", "source": "electricity", "quantity": {"value": "3", "unit": "万千瓦时"}},
            "quantity",
            "30",
            "MWh",
        ),
        (
            {"ref": "e", "source": "electricity", "quantity": {"value": "4500", "unit": "千瓦时"}},
            "quantity",
            "4.5",
            "MWh",
        ),
        (
            {"ref": "e", "source": "electricity", "quantity": {"value": "8", "unit": "兆瓦时"}},
            "quantity",
            "8",
            "MWh",
        ),
    ],
)
def test_chinese_unit_spellings_read_as_their_units(
    operator_client: APIClient, line: dict[str, Any], parameter: str, value: str, unit: str
) -> None:
    response = _calculate(operator_client, line)
    assert response.status_code == 200, response.json()
    shown = response.json()["lines"][0]["parameters"][parameter]
    assert Decimal(shown["value"]) == Decimal(value)
    assert shown["unit"] == unit  # the canonical spelling, whatever was written


@pytest.mark.django_db
def test_a_chinese_unit_gives_the_figures_of_its_canonical_twin(operator_client: APIClient) -> None:
    chinese = _calculate(operator_client, _gas("万Nm3")).json()
    canonical = _calculate(operator_client, _gas("10^4 Nm3")).json()
    assert chinese["totals"] == canonical["totals"]
    assert chinese["lines"][0]["co2e"] == canonical["lines"][0]["co2e"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["１２．５", "1２", "12，5", "12\u3000"])
def test_full_width_digits_are_refused_with_a_hint(operator_client: APIClient, value: str) -> None:
    english = _calculate(operator_client, _gas("10^4 Nm3", value))
    assert english.status_code == 400
    [error] = english.json()["errors"]
    assert error["pointer"] == "/lines/0/quantity/value" and error["code"] == "not_a_number"
    assert "full-width characters" in error["detail"] and "half-width digits 0-9" in error["detail"]
    chinese = _calculate(operator_client, _gas("10^4 Nm3", value), HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert (
        "全角字符" in chinese.json()["errors"][0]["detail"]
        and "半角数字" in chinese.json()["errors"][0]["detail"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("unit", ["万Ｎｍ３", "ｔ", "GJ／t", "t\u3000"])
def test_full_width_units_are_refused_with_a_hint(operator_client: APIClient, unit: str) -> None:
    response = _calculate(operator_client, _gas(unit))
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["pointer"] == "/lines/0/quantity/unit" and error["code"] == "unknown_unit"
    assert "full-width characters are not read" in error["detail"]


@pytest.mark.django_db
def test_an_unknown_chinese_unit_is_not_guessed(operator_client: APIClient) -> None:
    response = _calculate(operator_client, _gas("万GJ"))
    [error] = response.json()["errors"]
    assert error["code"] == "wrong_dimension" or error["code"] == "unknown_unit"
    assert "did you mean" not in error["detail"]  # 万GJ is not GJ: no suggestion across a Chinese word


# -- line files -----------------------------------------------------------------------------------------
COLUMNS = ["ref", "source", "fuel", "quantity", "quantity_unit", "ncv", "ncv_unit", "month"]
ROWS = [
    [
        "天然气-1",
        "fuel_combustion",
        "natural_gas",
        "12.5",
        ("万Nm3", "10^4 Nm3"),
        "389.31",
        ("吉焦/万标立方米", "GJ/10^4 Nm3"),
        "1",
    ],
    ["烟煤-1", "fuel_combustion", "bituminous_coal", "1.3", ("万吨", "10^4 t"), "23", ("GJ/t", "GJ/t"), "1"],
    ["电力", "electricity", "", "9.5", ("万千瓦时", "10^4 kWh"), "", ("", ""), "1"],
]


def _csv(*, chinese: bool) -> str:
    names = [headers.chinese(column) if chinese else column for column in COLUMNS]
    lines = [",".join(names)]
    for row in ROWS:
        cells = [cell[0 if chinese else 1] if isinstance(cell, tuple) else cell for cell in row]
        if not chinese:  # the English twin in the canonical units: 1.3 万吨 is 13000 t, 9.5 万千瓦时 95 MWh
            cells = [
                {"1.3": "13000", "9.5": "95"}.get(cell, cell) if index == 3 else cell
                for index, cell in enumerate(cells)
            ]
            cells[4] = {"10^4 t": "t", "10^4 kWh": "MWh"}.get(cells[4], cells[4])
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def _draft(world: World, year: int) -> int:
    facility = facility_create(
        by=world.regulator.user,
        name=f"水泥厂 {year}",
        operator=world.facility_a.operator,
        sector="cement",
        province="CN-JS",
        verification_body=world.facility_a.verification_body,
    )
    line = {"ref": "placeholder", "source": "electricity", "quantity": {"value": "1", "unit": "MWh"}}
    return report_create(
        by=world.operator_a.user, facility=facility, year=year, month=None, methodology=None, lines=[line]
    ).report.pk


def _import(world: World, report: int, content: bytes, name: str = "lines.csv") -> Any:
    return world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


@pytest.mark.django_db
def test_a_gb18030_file_with_chinese_headers_imports_to_the_figures_of_its_utf8_twin(world: World) -> None:
    chinese_text = _csv(chinese=True)
    assert "来源" in chinese_text and "数量单位" in chinese_text and "万Nm3" in chinese_text
    gb18030 = chinese_text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        gb18030.decode("utf-8")  # really GB18030, not UTF-8 in disguise
    chinese_report, english_report = _draft(world, 2024), _draft(world, 2023)
    imported = _import(world, chinese_report, gb18030)
    assert imported.status_code == 200, imported.json()
    assert _import(world, english_report, _csv(chinese=False).encode("utf-8")).status_code == 200
    client = world.client("operator_a")
    chinese = client.get(f"/api/v1/reports/{chinese_report}/").json()
    english = client.get(f"/api/v1/reports/{english_report}/").json()
    assert chinese["totals"] == english["totals"] and Decimal(chinese["totals"]["total"]) > 0
    assert [line["co2e"] for line in chinese["results"]] == [line["co2e"] for line in english["results"]]
    assert [line["ref"] for line in chinese["results"]] == ["天然气-1", "烟煤-1", "电力"]
    # the lines are stored as given (the Chinese units), their parameters shown in the canonical ones
    assert chinese["lines"][0]["quantity"] == {"value": "12.5", "unit": "万Nm3"}
    assert chinese["results"][0]["parameters"]["quantity"]["unit"] == "10^4 Nm3"


@pytest.mark.django_db
def test_the_zh_hans_template_has_chinese_headers_and_imports_back(world: World) -> None:
    client = world.client("operator_a")
    url = "/api/v1/reports/lines/template/?sector=cement&format=csv"
    english = client.get(url).content.decode("utf-8")
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode("utf-8")
    english_rows, chinese_rows = (
        list(csv.reader(io.StringIO(english))),
        list(csv.reader(io.StringIO(chinese))),
    )
    assert english_rows[0][:3] == ["ref", "source", "month"]
    assert chinese_rows[0][:3] == ["编号", "来源", "月份"]
    assert len(set(chinese_rows[0])) == len(chinese_rows[0])  # every header names one column
    assert english_rows[1:] == chinese_rows[1:]  # the cells (codes, figures, units) are the same
    reports = _draft(world, 2024), _draft(world, 2023)
    for report, content in zip(reports, (english, chinese), strict=True):
        response = _import(
            world, report, content.encode("gb18030") if "编号" in content else content.encode()
        )
        assert response.status_code == 200, response.json()
    assert (
        client.get(f"/api/v1/reports/{reports[0]}/").json()["totals"]
        == client.get(f"/api/v1/reports/{reports[1]}/").json()["totals"]
    )


def test_every_column_of_every_sector_has_one_chinese_header() -> None:
    from mrv.domain.linefiles import SECTOR_KINDS, columns

    names = {name for sector in SECTOR_KINDS for name in columns(sector)}
    chinese = {name: headers.chinese(name) for name in names}
    assert all(header != name for name, header in chinese.items()), [n for n, h in chinese.items() if h == n]
    assert len(set(chinese.values())) == len(chinese)
    assert all(headers.english(header) == name for name, header in chinese.items())


@pytest.mark.django_db
def test_csv_exports_offer_a_utf8_byte_order_mark(world: World) -> None:
    client = world.client("operator_a")
    url = "/api/v1/reports/lines/template/?sector=cement&format=csv"
    plain = client.get(url).content
    marked = client.get(url + "&bom=true", HTTP_ACCEPT_LANGUAGE="zh-Hans").content
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert marked.startswith(b"\xef\xbb\xbf")
    assert marked[3:].decode("utf-8").startswith('"编号","来源"')
    regulator = world.client("regulator")
    exported = regulator.get("/api/v1/aggregates/?group_by=sector&format=csv&bom=true")
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
