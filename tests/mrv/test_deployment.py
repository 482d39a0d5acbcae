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


def variables_read_by_settings(module: str = "settings.py") -> set[str]:
    """Names passed to the one environment reader ``env`` in config/settings.py (or config/<module>)."""
    tree = ast.parse((ROOT / "config" / module).read_text(encoding="utf-8"))
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
    read = variables_read_by_settings() | variables_read_by_settings("gunicorn.py")
    assert [name for name in sorted(read) if f"`{name}`" not in readme] == []


def test_docker_compose_services_and_their_environment() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    read = variables_read_by_settings()
    gunicorn = variables_read_by_settings("gunicorn.py")  # the web service's process reads those too
    for name in ("web", "worker", "beat"):
        environment = services[name].get("environment") or {}
        keys = (
            environment.keys()
            if isinstance(environment, dict)
            else [item.split("=", 1)[0] for item in environment]
        )
        assert {"DATABASE_URL", "CELERY_BROKER_URL", "MRV_SECRET_KEY"} <= set(keys), name
        unknown = sorted(set(keys) - read - (gunicorn if name == "web" else set()))
        assert unknown == [], f"{name} sets variables that settings never read: {unknown}"


def test_web_runs_gunicorn_with_its_config_file_and_no_access_log() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    web = compose["services"]["web"]
    assert web["command"] == ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]' in dockerfile
    assert "access-log" not in dockerfile + str(web["command"])
    # several workers: the metrics folder of prometheus_client's multiprocess mode, in memory
    folder = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert web["tmpfs"] == [folder]
    assert {
        "MRV_WEB_WORKERS",
        "MRV_WEB_TIMEOUT",
        "MRV_WEB_GRACEFUL_TIMEOUT",
        "MRV_WEB_KEEPALIVE",
        "MRV_WEB_MAX_REQUESTS",
        "MRV_WEB_MAX_REQUESTS_JITTER",
    } <= set(web["environment"]) & variables_read_by_settings("gunicorn.py")


def gunicorn_settings(environment: dict[str, str]) -> dict[str, str]:
    """Gunicorn's resolved settings (``--print-config``) under ``environment``."""
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    shown = subprocess.run(
        [gunicorn, "--config", "config/gunicorn.py", "--print-config", "config.wsgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    return {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in shown.stdout.splitlines())
        if value
    }


def test_gunicorn_settings_come_from_the_environment() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MRV_WEB_", "PROMETHEUS_"))}
    defaults = gunicorn_settings(base)
    assert (defaults["workers"], defaults["worker_class"], defaults["accesslog"]) == ("2", "sync", "None")
    assert (defaults["timeout"], defaults["graceful_timeout"], defaults["keepalive"]) == ("60", "30", "5")
    assert (defaults["max_requests"], defaults["max_requests_jitter"]) == ("1000", "100")
    assert defaults["control_socket_disable"] == "True"
    chosen = gunicorn_settings(
        {
            **base,
            "MRV_WEB_WORKERS": "5",
            "MRV_WEB_TIMEOUT": "120",
            "MRV_WEB_GRACEFUL_TIMEOUT": "45",
            "MRV_WEB_KEEPALIVE": "75",
            "MRV_WEB_MAX_REQUESTS": "400",
            "MRV_WEB_MAX_REQUESTS_JITTER": "40",
            "MRV_WEB_BIND": "127.0.0.1:9000",
        }
    )
    assert [chosen[name] for name in ("workers", "timeout", "graceful_timeout", "keepalive")] == [
        "5",
        "120",
        "45",
        "75",
    ]
    assert (chosen["max_requests"], chosen["max_requests_jitter"], chosen["bind"]) == (
        "400",
        "40",
        "['127.0.0.1:9000']",
    )


def test_gunicorn_empties_the_metrics_folder_when_it_starts(tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    (folder / "old").mkdir(parents=True)
    (folder / "counter_1234.db").write_bytes(b"an earlier run's counts")
    (folder / "old" / "gauge_livesum_1234.db").write_bytes(b"")
    script = (
        "import pathlib, runpy, sys; hooks = runpy.run_path('config/gunicorn.py'); hooks['on_starting'](None); "
        "print(sorted(p.name for p in pathlib.Path(sys.argv[1]).iterdir()))"
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    emptied = subprocess.run(
        [sys.executable, "-c", script, str(folder)], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert emptied.returncode == 0, emptied.stderr
    assert emptied.stdout.strip() == "[]"
    assert folder.is_dir()


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
    environment["MRV_AUDIT_KEY"] = "a-real-audit-key-" + "y" * 40
    started = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "False"  # DEBUG is off unless asked for


def production_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MRV_")}
    environment.update(
        {
            "MRV_ENV": "production",
            "MRV_SECRET_KEY": "a-real-secret-Zq7!kP2#vN9@wL4$xR8%tY3^mB6&cH1*" + "x" * 10,
            "MRV_AUDIT_KEY": "a-real-audit-key-Hs5!qW8#eR2@tY6$uI9%oP3^" + "y" * 10,
            "MRV_ALLOWED_HOSTS": "mrv.example.org",
            "MRV_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return environment


def test_production_refuses_debug(tmp_path: Path) -> None:
    script = "import django; django.setup()"
    environment = production_environment(tmp_path, MRV_DEBUG="true")
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "MRV_DEBUG is refused when MRV_ENV=production" in refused.stderr
    environment["MRV_ENV"] = "development"
    allowed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert allowed.returncode == 0, allowed.stderr


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    environment = production_environment(tmp_path, MRV_PROXY_SSL_HEADER="X-Forwarded-Proto=https")
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues (0 silenced)." in checked.stdout
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert shown.stdout.strip() == "True True True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_development_check_deploy_reports_what_production_fixes(tmp_path: Path) -> None:
    """The same check outside production finds the problems, so the clean result above is earned."""
    environment = production_environment(tmp_path, MRV_ENV="development")
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    for problem in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert problem in checked.stderr + checked.stdout


def test_https_settings_come_from_the_environment(tmp_path: Path) -> None:
    environment = production_environment(
        tmp_path, MRV_SSL_REDIRECT="false", MRV_HSTS_SECONDS="600", MRV_SECURE_COOKIES="false"
    )
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert shown.stdout.strip() == "False 600 False", shown.stderr


def test_importing_the_settings_creates_no_directory(tmp_path: Path) -> None:
    environment = production_environment(tmp_path, MRV_ENV="development")
    script = "import django; django.setup(); from django.conf import settings; print(settings.STATIC_ROOT)"
    started = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == str(tmp_path / "var" / "static")
    assert list(tmp_path.iterdir()) == []


def test_make_run_creates_the_folders_it_needs() -> None:
    """Settings no longer create var/: the run target does, before anything uses them."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    mkdir = next(line for line in run.splitlines() if "mkdir -p" in line)
    for folder in ("var/static", "var/celery/queue", "var/celery/processed", "var/celery/control"):
        assert folder in mkdir.split()
    assert run.index("mkdir -p") < run.index("migrate")
