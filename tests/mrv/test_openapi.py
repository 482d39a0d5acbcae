"""The committed openapi.yaml is the schema the code generates (run `make schema` after API changes)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "openapi.yaml"


def test_committed_schema_is_up_to_date(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
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
