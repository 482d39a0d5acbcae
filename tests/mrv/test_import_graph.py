"""Tasks import services, never the reverse: services enqueue by task name (mrv/services/background.py)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from config.celery import app
from mrv.services import background

MRV = Path(__file__).resolve().parents[2] / "mrv"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from a import b`` gives a.b too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_service_selector_or_domain_module_imports_the_tasks() -> None:
    checked = [
        p for layer in ("services", "selectors", "domain") for p in sorted((MRV / layer).rglob("*.py"))
    ]
    assert len(checked) > 10
    offenders = {
        str(p.relative_to(MRV.parent)): sorted(n for n in imports_of(p) if n == "mrv.tasks") for p in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_importing_every_service_leaves_the_tasks_unimported() -> None:
    """In a fresh interpreter: Django set up, every mrv.services module imported, mrv.tasks still absent."""
    program = (
        "import importlib, pkgutil, sys, django\n"
        "django.setup()\n"
        "import mrv.services\n"
        "names = [m.name for m in pkgutil.iter_modules(mrv.services.__path__)]\n"
        "for name in names: importlib.import_module('mrv.services.' + name)\n"
        "print(len(names), 'mrv.tasks' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    count, tasks_imported = result.stdout.split()
    assert int(count) > 5 and tasks_imported == "False", result.stdout


def test_every_task_a_service_names_is_registered_under_that_name() -> None:
    app.loader.import_default_modules()
    names = {
        background.RUN_VERIFICATION_CHECKS,
        background.IMPORT_LINES,
        background.SWEEP_STUCK_JOBS,
        background.AUDIT_CHECKPOINT,
        background.DELIVER_WEBHOOK,
        background.SWEEP_WEBHOOKS,
        background.SEND_NOTIFICATION_EMAIL,
        background.SEND_DEADLINE_REMINDERS,
        background.RESEND_NOTIFICATION_EMAILS,
    }
    assert names <= set(app.tasks)
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= names
