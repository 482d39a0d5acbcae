"""CBAM through the API: ``POST /api/v1/cbam/embedded-emissions/`` and a stored annual report's communication
to importers (``GET /api/v1/reports/{id}/cbam-communication/?format=json|xlsx``).

Expected figures are worked by hand (see fixtures/examples/cbam/cement-clinker-and-cement.json, whose
``working`` lists the arithmetic, repeated in the comments here).
"""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from openpyxl import load_workbook
from rest_framework.test import APIClient

from mrv.domain.canonical import digest
from mrv.models import Membership, ReportRevision
from mrv.services.reports import report_submit
from mrv.services.verification import checks_run, job_claim, opinion_issue
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/cbam/embedded-emissions/"
EXAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures/examples/cbam/cement-clinker-and-cement.json").read_text(
        encoding="utf-8"
    )
)


def _body() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE["request"])


def _stored() -> dict[str, Any]:
    body = _body()
    del body["year"]
    return body


def _by_ref(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {process["ref"]: process for process in answer["processes"]}


def _pointers(response: Any) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in response.json()["errors"]]


# -- the stateless endpoint ---------------------------------------------------------------------------------------
def test_the_cement_plant_is_exact_through_the_api(operator_client: APIClient) -> None:
    response = operator_client.post(URL, _body(), format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    kiln, mill = _by_ref(answer)["kiln"], _by_ref(answer)["mill"]
    # kiln: coal 258 TJ x 94.6 = 24406.8 t + clinker 100000 t x 0.53209 = 53209 t -> 77615.8 t; / 100000 t
    assert kiln["attributed_direct"] == "77615.8" and kiln["see_direct"] == "0.776158"
    # indirect 8000 MWh x 0.5 = 4000 t -> 0.04 t/t; total (cement counts indirect) 0.816158
    assert kiln["see_indirect"] == "0.04" and kiln["see_total"] == "0.816158"
    assert kiln["reported"] == {
        "see_direct": "0.77616",
        "see_indirect": "0.04000",
        "see_total": "0.81616",
        "attributed_direct": "77616",
        "attributed_indirect": "4000",
    }
    # mill: (269.28 + 75000 x 0.776158) / 100000 = 0.5848113 direct; (2500 + 3000) / 100000 = 0.055 indirect
    assert (mill["see_direct"], mill["see_indirect"], mill["see_total"]) == (
        "0.5848113",
        "0.055",
        "0.6398113",
    )
    assert mill["precursors"][0]["embedded_direct"] == "58211.85"
    assert mill["goods"][0]["reported"]["see_total"] == "0.63981"
    assert answer["methodology"] == "eu-mrr-2018" and answer["defaults_shipped"] == 0


def test_numbers_are_read_exactly_from_the_json_text(operator_client: APIClient) -> None:
    body = _body()
    body["processes"][0]["electricity"]["emission_factor"] = {"value": "__F__", "unit": "tCO2/MWh"}
    text = json.dumps(body).replace('"__F__"', "0.1")  # a JSON number: exactly one tenth
    response = operator_client.post(URL, text, content_type="application/json")
    assert response.status_code == 200, response.content
    # 8000 MWh x 0.1 = 800 t exactly; / 100000 t = 0.008
    assert _by_ref(response.json())["kiln"]["attributed_indirect"] == "800"
    assert _by_ref(response.json())["kiln"]["see_indirect"] == "0.008"


def test_bad_cn_codes_are_problems_with_pointers(operator_client: APIClient) -> None:
    body = _body()
    body["processes"][0]["goods"][0]["cn_code"] = "2523 10"
    body["processes"][1]["goods"][0]["cn_code"] = "8501 10 00"
    response = operator_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert _pointers(response) == [
        ("/processes/0/goods/0/cn_code", "invalid"),
        ("/processes/1/goods/0/cn_code", "not_cbam_good"),
    ]


def test_a_precursor_cycle_answers_400_with_the_pointer_of_the_closing_precursor(
    operator_client: APIClient,
) -> None:
    t = {"value": "10", "unit": "t"}
    body = {
        "installation": {"name": "Steel", "country": "CN"},
        "year": 2026,
        "processes": [
            {
                "ref": "a",
                "category": "crude_steel",
                "goods": [{"cn_code": "7206 10 00", "quantity": t}],
                "precursors": [{"cn_code": "7207 11 11", "quantity": t, "process": "b"}],
            },
            {
                "ref": "b",
                "category": "crude_steel",
                "goods": [{"cn_code": "7207 11 11", "quantity": t}],
                "precursors": [{"cn_code": "7206 10 00", "quantity": t, "process": "a"}],
            },
        ],
    }
    response = operator_client.post(URL, body, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/processes/1/precursors/0/process", "precursor_cycle")
    assert "a -> b -> a" in error["detail"]


def test_a_precursor_without_values_is_refused_in_chinese_too(operator_client: APIClient) -> None:
    body = _body()
    body["processes"][1]["precursors"] = [
        {"cn_code": "2523 10 00", "quantity": {"value": "75000", "unit": "t"}, "country": "CN"}
    ]
    english = operator_client.post(URL, body, format="json")
    chinese = operator_client.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert english.status_code == chinese.status_code == 400
    assert _pointers(english) == [("/processes/1/precursors/0/see_direct", "required")]
    assert "no verified default value is shipped" in english.json()["errors"][0]["detail"]
    detail = chinese.json()["errors"][0]["detail"]
    assert "未提供经核实的默认值" in detail and "25231000" in detail  # the code stays as it is


def test_the_endpoint_needs_authentication(api_client: APIClient) -> None:
    assert api_client.post(URL, _body(), format="json").status_code == 401


# -- a stored annual report and its communication ---------------------------------------------------------------
def _create(world: World, **extra: Any) -> Any:
    body = report_body(world.facility_a, year=2026, cbam=_stored(), **extra)
    return world.client("operator_a").post("/api/v1/reports/", body, format="json")


def test_a_report_carries_cbam_data_and_gives_the_communication_as_json(world: World) -> None:
    created = _create(world)
    assert created.status_code == 201, created.content
    report = created.json()
    assert report["cbam"]["methodology_version"] == "2018.1"  # pinned when stored
    response = world.client("operator_a").get(f"/api/v1/reports/{report['id']}/cbam-communication/")
    assert response.status_code == 200, response.content
    communication = response.json()
    assert communication["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert communication["installation"]["name"] == "Jiangsu Example Cement Works"
    assert communication["operator"]["name"] == world.facility_a.operator.name
    assert communication["status"] == "draft" and communication["verified"] is False
    goods = {good["cn_code"]: good for good in communication["goods"]}
    # the hand-worked figures, to 5 decimals and exact
    assert (goods["25231000"]["see_direct"], goods["25231000"]["see_total"]) == ("0.77616", "0.81616")
    assert goods["25232900"]["see_direct"] == "0.58481" and goods["25232900"]["see_indirect"] == "0.05500"
    assert goods["25232900"]["see_total_exact"] == "0.6398113"
    assert goods["25232900"]["electricity_basis"] == "supplier"
    assert goods["25232900"]["default_share"] == "0"
    # cement: 75000 t of clinker in 100000 t of cement
    assert goods["25232900"]["parameters"] == {"clinker_cement_ratio": "0.75"}
    [precursor] = communication["precursors"]
    assert (precursor["cn_code"], precursor["country"], precursor["basis"]) == ("25231000", "CN", "actual")
    assert precursor["see_direct"] == "0.776158" and precursor["made_in_process"] == "kiln"


def test_the_xlsx_communication_opens_and_carries_the_same_figures(world: World) -> None:
    report_id = _create(world).json()["id"]
    response = world.client("operator_a").get(f"/api/v1/reports/{report_id}/cbam-communication/?format=xlsx")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Communication", "Goods", "Precursors", "Processes"]
    header, *rows = list(workbook["Goods"].values)
    goods = {row[header.index("cn_code")]: dict(zip(header, row, strict=True)) for row in rows}
    cement, clinker = goods["25232900"], goods["25231000"]
    assert Decimal(str(cement["see_direct"])) == Decimal("0.58481")
    assert Decimal(str(cement["see_indirect"])) == Decimal("0.055")
    assert Decimal(str(cement["see_total"])) == Decimal("0.63981")
    assert cement["see_total_exact"] == "0.6398113"
    assert Decimal(str(clinker["see_total"])) == Decimal("0.81616")
    assert cement["electricity_basis"] == "supplier" and cement["indirect_counted"] == "yes"
    summary = dict(workbook["Communication"].values)
    assert summary["period"] == "2026-01-01 to 2026-12-31"
    assert summary["methodology"] == "eu-mrr-2018@2018.1"


def test_text_that_a_spreadsheet_would_evaluate_stays_text(world: World) -> None:
    body = report_body(world.facility_a, year=2026, cbam=_stored())
    body["cbam"]["installation"]["name"] = '=HYPERLINK("http://x.example","y")'
    body["cbam"]["processes"][0]["route"] = "+cmd"
    report_id = world.client("operator_a").post("/api/v1/reports/", body, format="json").json()["id"]
    response = world.client("operator_a").get(f"/api/v1/reports/{report_id}/cbam-communication/?format=xlsx")
    workbook = load_workbook(io.BytesIO(response.content))
    name = next(row for row in workbook["Communication"].iter_rows() if row[0].value == "installation")[1]
    assert name.value == '=HYPERLINK("http://x.example","y")'
    assert name.data_type == "s" and name.quotePrefix
    route = next(row for row in workbook["Goods"].iter_rows(min_row=2) if row[1].value == "25231000")[3]
    assert route.value == "+cmd" and route.data_type == "s" and route.quotePrefix


def test_invalid_cbam_data_is_refused_with_pointers_into_cbam(world: World) -> None:
    body = report_body(world.facility_a, year=2026, cbam=_stored())
    body["cbam"]["processes"][0]["goods"][0]["cn_code"] = "2523"
    body["cbam"]["year"] = 2026
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert _pointers(response) == [("/cbam/year", "unknown_field")]
    del body["cbam"]["year"]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert _pointers(response) == [("/cbam/processes/0/goods/0/cn_code", "invalid")]
    monthly = report_body(world.facility_a, year=2026, month=3, cbam=_stored())
    response = world.client("operator_a").post("/api/v1/reports/", monthly, format="json")
    assert response.status_code == 400 and _pointers(response) == [("/cbam", "annual_only")]


def test_a_draft_update_sets_replaces_and_removes_the_cbam_data(world: World) -> None:
    client = world.client("operator_a")
    report_id = client.post(
        "/api/v1/reports/", report_body(world.facility_a, year=2026), format="json"
    ).json()["id"]
    url = f"/api/v1/reports/{report_id}/"
    communication = f"{url}cbam-communication/"
    assert client.get(communication).status_code == 409  # no CBAM data yet
    assert client.patch(url, {"cbam": _stored()}, format="json").json()["cbam"] is not None
    assert client.get(communication).status_code == 200
    assert client.patch(url, {"methodology": "cn-mee-2024"}, format="json").json()["cbam"] is not None  # kept
    assert client.patch(url, {"cbam": None}, format="json").json()["cbam"] is None
    assert client.get(communication).status_code == 409


def test_the_communication_is_scoped_like_the_report(world: World) -> None:
    report_id = _create(world).json()["id"]
    url = f"/api/v1/reports/{report_id}/cbam-communication/"
    assert world.client("operator_b").get(url).status_code == 404  # another operator
    assert world.client("verifier_a").get(url).status_code == 404  # a draft is the operator's only
    report = ReportRevision.objects.get(report_id=report_id).report
    report_submit(by=world.operator_a.user, report=report)
    assert world.client("verifier_a").get(url).json()["status"] == "submitted"
    assert world.client("verifier_b").get(url).status_code == 404
    assert world.client("regulator").get(url).status_code == 200


def test_submitted_cbam_data_is_frozen_in_the_database(world: World) -> None:
    report_id = _create(world).json()["id"]
    revision = ReportRevision.objects.get(report_id=report_id)
    submitted = report_submit(by=world.operator_a.user, report=revision.report)
    assert submitted.digest
    with pytest.raises(DatabaseError), transaction.atomic():
        ReportRevision.objects.filter(pk=revision.pk).update(cbam={"processes": []})
    assert ReportRevision.objects.get(pk=revision.pk).cbam["processes"][0]["ref"] == "kiln"


# -- one dataset: CBAM processes naming the report's own lines ------------------------------------------------------
def _one_dataset(world: World) -> dict[str, Any]:
    """The example's lines as the report's own lines (calculated under cn-mee-2024 for China), and CBAM
    processes that name them by ref (calculated under eu-mrr-2018 for the EU)."""
    stored = _stored()
    kiln, mill = stored["processes"]
    lines = [*kiln.pop("lines"), *mill.pop("lines")]
    # the gas metered by volume with its NCV (China's default NCV is per volume, the MRR's per mass):
    # 12.5 x 10^4 Nm3 x 384 GJ/10^4 Nm3 = 4800 GJ, the example's 100 t x 48.0 GJ/t
    lines[2]["quantity"] = {"value": "12.5", "unit": "10^4 Nm3"}
    lines[2]["ncv"] = {"value": "384", "unit": "GJ/10^4 Nm3"}
    kiln["line_refs"] = ["kiln-coal", "kiln-calcination"]
    mill["line_refs"] = ["dryer-gas"]
    return {"facility": world.facility_a.pk, "year": 2026, "lines": lines, "cbam": stored}


def test_cbam_processes_may_name_the_reports_own_lines(world: World) -> None:
    created = world.client("operator_a").post("/api/v1/reports/", _one_dataset(world), format="json")
    assert created.status_code == 201, created.content
    report = created.json()
    assert report["methodology"] == "cn-mee-2024"  # the China report
    response = world.client("operator_a").get(f"/api/v1/reports/{report['id']}/cbam-communication/")
    goods = {good["cn_code"]: good for good in response.json()["goods"]}
    # the same figures as the lines given in the processes: the lines are calculated under eu-mrr-2018
    assert goods["25231000"]["see_direct_exact"] == "0.776158"
    assert goods["25232900"]["see_total_exact"] == "0.6398113"
    # while the China report calculates the same coal line with China's defaults:
    # 10000 t x 23.204 GJ/t = 232040 GJ x 0.02618 tC/GJ x 0.93 x 44/12 = 20715.092552 t (MRR: 24406.8 t)
    coal = next(line for line in report["results"] if line["ref"] == "kiln-coal")
    assert coal["co2e"] == "20715.092552"
    kiln = response.json()["processes"][0]
    assert kiln["ref"] == "kiln" and kiln["direct_emissions"] == "77615.8"


def test_line_refs_must_name_lines_of_the_report_once(world: World) -> None:
    body = _one_dataset(world)
    body["cbam"]["processes"][0]["line_refs"] = ["kiln-coal", "kiln-oil", "kiln-coal"]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert _pointers(response) == [
        ("/cbam/processes/0/line_refs/1", "unknown_line"),
        ("/cbam/processes/0/line_refs/2", "duplicate"),
    ]


def test_a_named_line_refused_under_cbams_methodology_points_at_the_reports_line(world: World) -> None:
    body = _one_dataset(world)
    # natural gas metered in 10^4 Nm3: China's default NCV is per volume, the MRR's only per mass
    del body["lines"][2]["ncv"]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 400
    assert _pointers(response) == [("/lines/2/ncv", "no_applicable_default")]
    assert "eu-mrr-2018" in response.json()["errors"][0]["detail"]


def test_changing_the_lines_keeps_the_named_lines_in_check(world: World) -> None:
    client = world.client("operator_a")
    report_id = client.post("/api/v1/reports/", _one_dataset(world), format="json").json()["id"]
    lines = _one_dataset(world)["lines"]
    response = client.patch(f"/api/v1/reports/{report_id}/", {"lines": lines[:2]}, format="json")
    assert response.status_code == 400  # dryer-gas is named by the mill
    assert _pointers(response) == [("/cbam/processes/1/line_refs/0", "unknown_line")]
    lines[2]["quantity"] = {"value": "25", "unit": "10^4 Nm3"}
    assert client.patch(f"/api/v1/reports/{report_id}/", {"lines": lines}, format="json").status_code == 200
    goods = client.get(f"/api/v1/reports/{report_id}/cbam-communication/").json()["goods"]
    # 25 x 10^4 Nm3 x 384 GJ = 9.6 TJ x 56.1 = 538.56 t; (538.56 + 58211.85) / 100000 = 0.5875041
    assert next(g for g in goods if g["cn_code"] == "25232900")["see_direct_exact"] == "0.5875041"


def test_the_submitted_digest_covers_the_cbam_data_and_a_revision_copies_it(world: World) -> None:
    report_id = _create(world).json()["id"]
    revision = ReportRevision.objects.get(report_id=report_id)
    report = revision.report
    submitted = report_submit(by=world.operator_a.user, report=report)
    lines = list(submitted.activity_lines.order_by("index").values_list("inputs", flat=True))
    content = {
        "facility": report.facility_id,
        "year": 2026,
        "month": None,
        "methodology": submitted.methodology,
        "methodology_version": submitted.methodology_version,
        "lines": lines,
    }
    assert submitted.digest != digest(content)  # the CBAM data is part of what was frozen
    assert submitted.digest == digest({**content, "cbam": submitted.cbam})
    job = submitted.verification_jobs.get()
    checks_run(job_id=job.pk)
    verifier = Membership.objects.filter(organisation=world.facility_a.verification_body).first().user
    job_claim(job=job, by=verifier)
    opinion_issue(job=job, by=verifier, opinion="not_verified", statement="the kiln's coal is not metered")
    response = world.client("operator_a").post(f"/api/v1/reports/{report_id}/revise/")
    assert response.status_code == 201, response.content
    draft = ReportRevision.objects.get(report_id=report_id, number=2)
    assert draft.cbam == submitted.cbam
    communication = world.client("operator_a").get(f"/api/v1/reports/{report_id}/cbam-communication/").json()
    assert (communication["revision"], communication["status"]) == (2, "draft")


def test_an_import_that_drops_named_lines_is_refused_and_stores_nothing(world: World) -> None:
    client = world.client("operator_a")
    report_id = client.post("/api/v1/reports/", _one_dataset(world), format="json").json()["id"]
    template = client.get("/api/v1/reports/lines/template/?sector=cement&format=csv").content
    response = client.post(
        f"/api/v1/reports/{report_id}/lines/import/",
        {"file": SimpleUploadedFile("lines.csv", template)},
        format="multipart",
    )
    # the template's lines replace the draft's: it has a kiln-coal line, but no kiln-calcination or dryer-gas
    assert response.status_code == 400
    assert _pointers(response) == [
        ("/cbam/processes/0/line_refs/1", "unknown_line"),
        ("/cbam/processes/1/line_refs/0", "unknown_line"),
    ]
    assert [line["ref"] for line in client.get(f"/api/v1/reports/{report_id}/").json()["lines"]] == [
        "kiln-coal",
        "kiln-calcination",
        "dryer-gas",
    ]
