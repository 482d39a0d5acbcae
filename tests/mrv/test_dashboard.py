"""The regulator's dashboard, rendered in headless Chromium: a person signs in, charts are there, and
every number shown equals the API's."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mrv.models import Membership
from mrv.services.demo import demo_seed
from tests.mrv import factories

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Any) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def regulator_with_password() -> tuple[str, str, Any]:
    regulator = factories.api_user(role="regulator")
    regulator.user.set_password("a-long-test-password-123")
    regulator.user.save()
    return regulator.user.get_username(), "a-long-test-password-123", factories.client_for(regulator)


def sign_in(browser: webdriver.Chrome, live_server: Any, username: str, password: str) -> None:
    browser.get(f"{live_server.url}/dashboard/")
    assert "/accounts/login/" in browser.current_url  # the page asks who you are first
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(password)
    browser.find_element(By.ID, "sign-in").click()
    # Wait for the page the sign-in leads to to be loaded, not only for its address.
    WebDriverWait(browser, 30).until(
        lambda driver: (
            driver.execute_script("return document.readyState") == "complete"
            and "/accounts/login/" not in driver.current_url
            and driver.find_elements(By.TAG_NAME, "h1")
        )
    )


def test_dashboard_shows_the_api_figures(browser: webdriver.Chrome, live_server: Any, tmp_path: Any) -> None:
    demo_seed()
    username, password, api = regulator_with_password()
    sign_in(browser, live_server, username, password)
    assert browser.current_url.endswith("/dashboard/"), browser.current_url

    by_sector_year = api.get("/api/v1/aggregates/?group_by=sector,year").json()
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-sector-year .bar-row")
    assert len(bars) == len(by_sector_year["results"]) > 0
    assert [(b.get_attribute("data-label"), b.get_attribute("data-total")) for b in bars] == [
        (f"{r['sector']} {r['year']}", r["total"]) for r in by_sector_year["results"]
    ]
    assert all(int(b.find_element(By.TAG_NAME, "rect").get_attribute("width")) > 0 for b in bars)

    year = max(r["year"] for r in by_sector_year["results"])
    by_province = api.get(f"/api/v1/aggregates/?group_by=province&year={year}").json()
    provinces = browser.find_elements(By.CSS_SELECTOR, "#chart-provinces .bar-row")
    assert [(p.get_attribute("data-label"), p.get_attribute("data-total")) for p in provinces] == [
        (r["province"], r["total"]) for r in by_province["results"]
    ]

    totals = by_sector_year["totals"]
    for name in ("total", "direct", "indirect"):
        assert browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text == totals[name]

    comparison = api.get(f"/api/v1/aggregates/comparison/?year={year}").json()["results"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#facilities tbody tr[data-facility]")
    shown = {int(r.get_attribute("data-facility")): r.find_elements(By.TAG_NAME, "td")[3].text for r in rows}
    assert shown == {c["facility"]: c["direct_intensity"] for c in comparison}
    link = rows[0].find_element(By.TAG_NAME, "a").get_attribute("href")
    assert "/api/v1/reports/" in link
    browser.save_screenshot(str(tmp_path / "dashboard.png"))


def test_the_dashboard_is_for_regulators(browser: webdriver.Chrome, live_server: Any) -> None:
    operator = factories.api_user(role="operator")
    operator.user.set_password("a-long-test-password-123")
    operator.user.save()
    sign_in(browser, live_server, operator.user.get_username(), "a-long-test-password-123")
    assert "403" in browser.title or "Forbidden" in browser.page_source
    assert not browser.find_elements(By.ID, "chart-sector-year")
    assert Membership.objects.filter(user=operator.user, role="operator").exists()


def test_the_dashboard_needs_no_external_asset(client: Any) -> None:
    demo_seed()
    regulator = factories.api_user(role="regulator")
    client.force_login(regulator.user)
    page = client.get("/dashboard/", HTTP_HOST="localhost")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
