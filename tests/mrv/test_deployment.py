"""Deployment files agree with the settings: docker-compose, and settings read only from the environment."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def variables_read_by_settings() -> set[str]:
    """Names passed to the one environment reader ``env`` in config/settings.py."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        reader = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        first = node.args[0]
        if isinstance(reader, ast.Name) and reader.id == "env" and isinstance(first, ast.Constant):
            names.add(first.value)
    return names


def test_settings_read_the_documented_variables() -> None:
    assert {
        "MRV_DEBUG",
        "MRV_ENV",
        "MRV_SECRET_KEY",
        "MRV_ALLOWED_HOSTS",
        "MRV_MAX_BODY_BYTES",
        "MRV_REDIS_URL",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
    } <= variables_read_by_settings()


def test_every_variable_read_by_settings_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(variables_read_by_settings()) if f"`{name}`" not in readme] == []


def test_docker_compose_services_and_their_environment() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    read = variables_read_by_settings()
    for name in ("web", "worker", "beat"):
        environment = services[name].get("environment") or {}
        keys = (
            environment.keys()
            if isinstance(environment, dict)
            else [item.split("=", 1)[0] for item in environment]
        )
        assert {"DATABASE_URL", "CELERY_BROKER_URL", "MRV_SECRET_KEY"} <= set(keys), name
        unknown = sorted(set(keys) - read)
        assert unknown == [], f"{name} sets variables that settings never read: {unknown}"


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MRV_")}
    environment.update(
        {"MRV_ENV": "production", "MRV_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    script = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "MRV_SECRET_KEY must be set" in refused.stderr
    environment["MRV_SECRET_KEY"] = "a-real-secret-" + "x" * 40
    started = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "False"  # DEBUG is off unless asked for
