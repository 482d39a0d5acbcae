"""The committed openapi.yaml is the schema the code generates (run `make schema` after API changes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

import accounting.methods  # noqa: F401  (registers and describes every line kind)
from accounting.registry import registered
from mrv.api.serializers import ReportDetailOutput, VerificationJobOutput

COMMITTED = Path(settings.BASE_DIR) / "openapi.yaml"
EXAMPLES = sorted((Path(settings.BASE_DIR) / "fixtures" / "examples").glob("*.json"))


def test_committed_schema_is_up_to_date(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
    with translation.override("en"):  # as `make schema` writes it, whatever an earlier test activated
        call_command("spectacular", "--file", str(generated))
    assert COMMITTED.exists(), "openapi.yaml is missing: run `make schema`"
    assert generated.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "openapi.yaml is out of date: run `make schema` and commit it"
    )


def test_schema_is_valid_openapi(tmp_path: Path) -> None:
    call_command("spectacular", "--file", str(tmp_path / "openapi.yaml"), "--validate")


def test_schema_and_docs_are_served_without_authentication(client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/calculate/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn." not in docs.content  # served from drf-spectacular-sidecar, offline


# -- what the schema says ------------------------------------------------------------------------------
def _served(client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def _component(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    assert "$ref" in node, node
    return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]


def _response(schema: dict[str, Any], method: str, path: str, status: str = "200") -> dict[str, Any]:
    media = schema["paths"][path][method]["responses"][status]["content"]["application/json"]
    return _component(schema, media["schema"])


def test_activity_lines_are_one_schema_per_line_kind_discriminated_by_source(client) -> None:
    schema = _served(client)
    components = schema["components"]["schemas"]
    union = components["ActivityLine"]
    kinds: dict[str, set[str]] = {}
    for (kind, _variant), method in registered().items():
        kinds.setdefault(kind, set()).update(f.name for f in method.spec)
    assert union["discriminator"]["propertyName"] == "source"
    assert set(union["discriminator"]["mapping"]) == set(kinds)
    assert sorted(ref["$ref"] for ref in union["oneOf"]) == sorted(union["discriminator"]["mapping"].values())
    for kind, declared in kinds.items():
        line = _component(schema, {"$ref": union["discriminator"]["mapping"][kind]})
        assert line["properties"]["source"]["enum"] == [kind]
        assert set(line["properties"]) == declared | {"ref", "source", "month", "unit"}, kind
        assert "source" in line["required"] and line["additionalProperties"] is False
    fuel = components["FuelCombustionLine"]
    assert {"fuel", "quantity"} <= set(fuel["required"]) and "ncv" not in fuel["required"]
    assert fuel["properties"]["quantity"]["x-units"] == ["t", "10^4 Nm3", "m3", "GJ"]
    assert "MJ/kg" in fuel["properties"]["ncv"]["description"]  # the usual spellings of GJ/t
    assert fuel["properties"]["direction"]["enum"] == ["consumed", "exported"]
    steam = components["HeatLine"]["properties"]["steam"]
    assert steam["required"] == ["mass", "enthalpy"] and steam["properties"]["enthalpy"]["x-units"] == [
        "kJ/kg"
    ]
    inputs = components["CarbonMassBalanceLine"]["properties"]["inputs"]
    # carbon_content may come from the methodology's materials table (eu-mrr-2018), so it is not required
    assert inputs["type"] == "array" and inputs["items"]["required"] == ["material", "quantity"]
    assert "carbon_content" in inputs["items"]["properties"]


def test_requests_and_reports_carry_activity_lines(client) -> None:
    schema = _served(client)
    line = {"$ref": "#/components/schemas/ActivityLine"}
    calculate = schema["paths"]["/api/v1/calculate/"]["post"]["requestBody"]["content"]["application/json"]
    assert calculate["schema"]["properties"]["lines"]["items"] == line
    for method, status in (("post", None), ("patch", None)):
        path = "/api/v1/reports/" if method == "post" else "/api/v1/reports/{id}/"
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert _component(schema, body["schema"])["properties"]["lines"]["items"] == line, (method, status)
    report = _response(schema, "get", "/api/v1/reports/{id}/")
    assert report["properties"]["lines"]["items"] == line


def test_report_and_verification_job_responses_list_their_fields(client) -> None:
    schema = _served(client)
    report = _response(schema, "get", "/api/v1/reports/{id}/")
    assert set(ReportDetailOutput().fields) == set(report["properties"]) == set(report["required"])
    assert {"id", "status", "revision", "totals", "intensity", "lines", "results", "verification_job"} <= set(
        report["properties"]
    )
    totals = _component(schema, report["properties"]["totals"]["allOf"][0])
    assert totals["properties"]["direct"]["pattern"] == r"^-?\d+(\.\d+)?$"
    results = report["properties"]["results"]["items"]
    assert "parameters" in _component(schema, results)["properties"]
    job = _response(schema, "get", "/api/v1/verification-jobs/{id}/")
    assert set(job["properties"]) == set(VerificationJobOutput().fields)
    assert {"status", "materiality", "finding_counts", "findings", "opinion"} <= set(job["properties"])
    finding = _component(schema, job["properties"]["findings"]["items"])
    assert {"severity", "code", "pointer", "expected", "acknowledged"} <= set(finding["properties"])
    page = _response(schema, "get", "/api/v1/verification-jobs/")
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    for path in (
        "/api/v1/import-jobs/{id}/",
        "/api/v1/aggregates/",
        "/api/v1/reports/",
        "/api/v1/reports/{id}/revisions/",
    ):
        assert _response(schema, "get", path)["properties"], path
    row = _component(
        schema, _response(schema, "get", "/api/v1/aggregates/")["properties"]["results"]["items"]
    )
    assert {"facilities", "reports", "direct", "indirect", "total", "gases", "sector", "gas"} <= set(
        row["properties"]
    )


def _bare_objects(schema: dict[str, Any], node: Any, where: str, seen: frozenset[str]) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                found += _bare_objects(
                    schema, schema["components"]["schemas"][name], f"{where}>{name}", seen | {name}
                )
            return found
        if (
            node.get("type") == "object"
            and not node.get("properties")
            and node.get("additionalProperties") in (None, {})
        ):
            found.append(where)
        for key, value in node.items():
            if key == "properties":
                for name, child in value.items():
                    found += _bare_objects(schema, child, f"{where}.{name}", seen)
            elif key in ("items", "additionalProperties"):
                found += _bare_objects(schema, value, f"{where}[]", seen)
            elif key in ("oneOf", "allOf", "anyOf"):
                for child in value:
                    found += _bare_objects(schema, child, where, seen)
    return found


def test_no_response_or_request_is_a_bare_object(client) -> None:
    schema = _served(client)
    bare: list[str] = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            bodies = [
                (f"{method} {path} {status}", media.get("schema", {}))
                for status, response in operation.get("responses", {}).items()
                for media in (response.get("content") or {}).values()
            ]
            bodies += [
                (f"{method} {path} request", media.get("schema", {}))
                for media in operation.get("requestBody", {}).get("content", {}).values()
            ]
            for where, body in bodies:
                bare += _bare_objects(schema, body, where, frozenset())
    assert bare == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_the_worked_examples_lines_match_the_activity_line_schema(client, example: Path) -> None:
    schema = _served(client)
    validator = _line_validator(schema)
    for line in json.loads(example.read_text(encoding="utf-8"))["request"]["lines"]:
        validator.validate(line)
    # and the schema refuses what the engine refuses: a field foreign to the kind, a missing required one
    first = json.loads(example.read_text(encoding="utf-8"))["request"]["lines"][0]
    assert not validator.is_valid({**first, "colour": "blue"})
    assert not validator.is_valid(
        {"source": first["source"]} if first["source"] != "heat" else {"source": "x"}
    )


def _line_validator(schema: dict[str, Any]) -> jsonschema.Draft4Validator:
    root = {"$ref": "#/components/schemas/ActivityLine", "components": schema["components"]}
    return jsonschema.Draft4Validator(root)
