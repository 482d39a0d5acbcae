"""Request hygiene: the dashboard, the sign-in page, the admin and the API docs send security headers
(a Content-Security-Policy that allows nothing inline but the page's own nonce), and uploads are
bounded in size and in count (413 problem documents)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def policy(response: Any) -> dict[str, list[str]]:
    """The Content-Security-Policy header as ``{directive: [sources]}``."""
    header = response["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in header.split(";") if part.strip())}


def assert_hygiene_headers(response: Any) -> dict[str, list[str]]:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert not any("'unsafe-inline'" in s or "'unsafe-eval'" in s for s in directives.values())
    return directives


@pytest.mark.django_db
def test_the_dashboard_allows_only_its_own_nonced_style(client: Any) -> None:
    regulator = factories.api_user(role="regulator")
    client.force_login(regulator.user)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    directives = assert_hygiene_headers(page)
    (nonce,) = re.findall(r"<style nonce=\"([^\"]+)\">", page.content.decode())
    assert f"'nonce-{nonce}'" in directives["style-src"] and "'self'" in directives["style-src"]
    assert "<script" not in page.content.decode()
    # a new nonce for every response
    assert re.findall(r"<style nonce=\"([^\"]+)\">", client.get("/dashboard/").content.decode()) != [nonce]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/docs/"])
def test_sign_in_admin_and_docs_pages_send_the_headers(client: Any, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert_hygiene_headers(page)
    html = page.content.decode()
    # Every script is a file of this origin: nothing inline would run under the policy.
    assert all(re.search(r"\ssrc=", tag) for tag in re.findall(r"<script[^>]*>", html)), html


@pytest.mark.django_db
def test_the_docs_start_up_script_is_served_as_a_file(client: Any) -> None:
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', client.get("/api/docs/").content.decode())
    assert script_url is not None
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


# -- in a browser: the policy blocks nothing the pages need -----------------------------------------------
@pytest.fixture
def browser(tmp_path: Any) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def csp_violations(browser: webdriver.Chrome) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_under_the_policy_the_sign_in_page_is_styled_and_the_docs_render(
    browser: webdriver.Chrome, live_server: Any
) -> None:
    browser.get(f"{live_server.url}/accounts/login/")
    # the nonced inline style applied: the page is 28rem wide, not the full window
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") == "448px"
    assert csp_violations(browser) == []

    browser.get(f"{live_server.url}/api/docs/")
    # the start-up script ran: Swagger UI fetched the schema and shows its title and operations
    WebDriverWait(browser, 30).until(
        lambda driver: (
            "Open MRV API"
            in driver.execute_script(
                "const t = document.querySelector('.swagger-ui .info .title'); return t ? t.textContent : ''"
            )
        ),
        message=f"Swagger UI did not render: {csp_violations(browser)}",
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")
    assert [v for v in csp_violations(browser) if "script" in v] == []


# -- uploads -------------------------------------------------------------------------------------------
@pytest.fixture
def draft(world: World) -> int:
    body = report_body(world.facility_a)
    body["lines"] = body["lines"][:1]
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def test_an_upload_over_the_body_limit_answers_413(world: World, draft: int, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    big = SimpleUploadedFile("lines.csv", b"ref,source\n" + b"x,fuel_combustion\n" * 5000)
    response = world.client("operator_a").post(
        f"/api/v1/reports/{draft}/lines/import/", {"file": big}, format="multipart"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "request_too_large"


def test_too_many_files_in_one_upload_answer_413(world: World, draft: int, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"file{n}": SimpleUploadedFile(f"lines{n}.csv", b"ref,source\n") for n in range(3)}
    response = world.client("operator_a").post(
        f"/api/v1/reports/{draft}/lines/import/", files, format="multipart"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "too_many_parts" and "2 files" in problem["detail"]
