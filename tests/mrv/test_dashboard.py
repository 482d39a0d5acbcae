"""The regulator's dashboard, rendered in headless Chromium: a person signs in, picks a year, and every
number shown is the API's figure for that year, in one format (thousands separators, the reporting
precision); others get a 403 page that says why."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from mrv.domain.provinces import PROVINCES
from mrv.models import Membership
from mrv.selectors.dashboard import figure
from mrv.services.demo import demo_seed
from mrv.services.users import user_set_password
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
    user_set_password(
        user=regulator.user, password="a-long-test-password-123"
    )  # as create_api_user --password
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


def shown(value: str, places: int = 0) -> str:
    """How the page must show an exact API figure: rounded half up to ``places``, thousands separated
    (computed here independently of the dashboard's helper)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{abs(rounded) if rounded.is_zero() else rounded:,.{places}f}"


def show_year(browser: webdriver.Chrome, year: int, *, with_the_selector: bool) -> None:
    if with_the_selector:
        Select(browser.find_element(By.ID, "year")).select_by_value(str(year))
        browser.find_element(By.CSS_SELECTOR, "#year-form button").click()
    else:
        browser.find_element(By.LINK_TEXT, str(year)).click()
    WebDriverWait(browser, 30).until(
        lambda driver: (
            driver.execute_script("return document.readyState") == "complete"
            and driver.find_elements(By.ID, "shown-year")
            and driver.find_element(By.ID, "shown-year").text == str(year)
        )
    )


def screenshot_dir(tmp_path: Path) -> Path:
    """Where the screenshots go: $MRV_SCREENSHOT_DIR when set (to look at them), else the test's tmp."""
    folder = Path(os.environ.get("MRV_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_dashboard_shows_the_api_figures_of_the_year_it_says(
    browser: webdriver.Chrome, live_server: Any, tmp_path: Path
) -> None:
    demo_seed()
    username, password, api = regulator_with_password()
    years = [r["year"] for r in api.get("/api/v1/aggregates/?group_by=year").json()["results"]]
    assert len(years) >= 2  # the demo has verified reports in two years
    sign_in(browser, live_server, username, password)
    assert browser.current_url.endswith("/dashboard/"), browser.current_url
    assert browser.find_element(By.ID, "shown-year").text == str(years[-1])  # the latest year first

    cards: dict[int, str] = {}
    for number, year in enumerate(years[-2:]):
        show_year(browser, year, with_the_selector=number == 0)
        assert f"?year={year}" in browser.current_url
        assert browser.title.startswith(f"Verified emissions {year}")
        totals = api.get(f"/api/v1/aggregates/?year={year}").json()["totals"]
        for name in ("total", "direct", "indirect"):
            card = browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]')
            assert card.get_attribute("data-exact") == totals[name]  # the API's exact figure
            assert card.text == shown(totals[name])  # shown in whole tonnes (cn-mee), with separators
        for name in ("facilities", "reports"):
            assert browser.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').text == str(totals[name])
        cards[year] = browser.find_element(By.CSS_SELECTOR, '[data-figure="total"]').get_attribute(
            "data-exact"
        )

        by_sector = api.get(f"/api/v1/aggregates/?group_by=sector&year={year}").json()["results"]
        bars = browser.find_elements(By.CSS_SELECTOR, "#chart-sectors .bar-row")
        assert [
            (
                b.get_attribute("data-key"),
                b.get_attribute("data-exact"),
                b.find_element(By.CLASS_NAME, "figure").text,
            )
            for b in bars
        ] == [(r["sector"], r["total"], shown(r["total"])) for r in by_sector]
        assert bars and all(int(b.find_element(By.TAG_NAME, "rect").get_attribute("width")) > 0 for b in bars)

        by_province = api.get(f"/api/v1/aggregates/?group_by=province&year={year}").json()["results"]
        provinces = browser.find_elements(By.CSS_SELECTOR, "#chart-provinces .bar-row")
        assert [
            (p.get_attribute("data-key"), p.get_attribute("data-label"), p.get_attribute("data-exact"))
            for p in provinces
        ] == [
            (r["province"], f"{PROVINCES[r['province']]} ({r['province']})", r["total"]) for r in by_province
        ]

        comparison = api.get(f"/api/v1/aggregates/comparison/?year={year}").json()["results"]
        rows = browser.find_elements(By.CSS_SELECTOR, "#facilities tbody tr[data-facility]")
        cells = {int(r.get_attribute("data-facility")): r.find_elements(By.TAG_NAME, "td") for r in rows}
        assert {f: (c[2].text, c[3].get_attribute("data-exact"), c[3].text) for f, c in cells.items()} == {
            c["facility"]: (
                f"{PROVINCES[c['province']]} ({c['province']})",
                c["direct_intensity"],
                shown(c["direct_intensity"], 3),
            )
            for c in comparison
        }
        assert "/api/v1/reports/" in rows[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        browser.save_screenshot(str(screenshot_dir(tmp_path) / f"dashboard-{year}.png"))
    assert len(set(cards.values())) == 2  # the two years' cards differ: each shows its own year


def test_the_dashboard_is_for_regulators(browser: webdriver.Chrome, live_server: Any) -> None:
    operator = factories.api_user(role="operator", organisation_name="Jiangsu Cement Co.")
    operator.user.set_password("a-long-test-password-123")
    operator.user.save()
    sign_in(browser, live_server, operator.user.get_username(), "a-long-test-password-123")
    assert browser.title.startswith("403")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This dashboard is for authority users"
    reason = browser.find_element(By.ID, "reason").text
    assert "your account belongs to an operator (Jiangsu Cement Co.)" in reason
    assert not browser.find_elements(By.ID, "chart-sectors")
    assert Membership.objects.filter(user=operator.user, role="operator").exists()


@pytest.mark.parametrize(
    ("role", "organisation", "reason"),
    [
        (
            "verifier",
            "North Verification Centre",
            "belongs to a verification body (North Verification Centre)",
        ),
        (None, None, "belongs to no organisation"),
    ],
)
def test_the_403_page_says_why(client: Any, role: str | None, organisation: str | None, reason: str) -> None:
    if role:
        user = factories.api_user(role=role, organisation_name=organisation).user
    else:
        user = get_user_model().objects.create_user("nobody", password="a-long-test-password-123")
    client.force_login(user)
    page = client.get("/dashboard/", HTTP_HOST="localhost")
    assert page.status_code == 403
    html = page.content.decode()
    assert reason in html and "only regulators" in html
    assert f'nonce="{page.wsgi_request.csp_nonce}"' in html  # its style runs under the CSP nonce


def test_a_year_without_verified_reports_says_so(client: Any) -> None:
    demo_seed()
    client.force_login(factories.api_user(role="regulator").user)
    page = client.get("/dashboard/?year=2019", HTTP_HOST="localhost").content.decode()
    assert '<span id="shown-year">2019</span>' in page
    assert 'data-figure="total" data-exact="0">0<' in page
    assert "No verified report for this year." in page


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        ("1234567.5", 0, "1,234,568"),
        ("1234566.5", 0, "1,234,567"),  # half up, as cn-mee-2024 rounds
        ("-0.4", 0, "0"),
        ("999.999", 0, "1,000"),
        ("0.80869270948", 3, "0.809"),
        ("150.000000000000", 0, "150"),
    ],
)
def test_every_figure_has_one_format(value: str, places: int, text: str) -> None:
    assert figure(Decimal(value), places) == text == shown(value, places)


def test_the_dashboard_needs_no_external_asset(client: Any) -> None:
    demo_seed()
    regulator = factories.api_user(role="regulator")
    client.force_login(regulator.user)
    page = client.get("/dashboard/", HTTP_HOST="localhost")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)


def deposit_in(year: int, month: int) -> Any:
    """A monthly report of the first demo cement facility for ``year`` and ``month``, deposited today
    (late for any month of an earlier year) by a user of its operator."""
    from mrv.models import Facility
    from mrv.services.reports import report_create, report_submit
    from tests.mrv.verification_helpers import plausible_cement

    facility = Facility.objects.filter(sector="cement").order_by("id").first()
    assert facility is not None
    operator = factories.api_user(role="operator", organisation_name=facility.operator.name)
    report = report_create(
        by=operator.user,
        facility=facility,
        year=year,
        month=month,
        methodology=None,
        lines=plausible_cement(),
    ).report
    report_submit(by=operator.user, report=report)
    return facility


def panel_rows(browser: webdriver.Chrome, table: str) -> dict[str, tuple[str, ...]]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr[data-key], #{table} tfoot tr")
    counts = ("expected", "on_time", "late", "missing", "accepted", "returned")
    return {
        row.get_attribute("data-key"): tuple(
            row.find_element(By.CSS_SELECTOR, f'[data-count="{name}"]').text for name in counts
        )
        for row in rows
    }


def test_the_deposit_panel_shows_the_deposit_aggregates_of_the_year(
    browser: webdriver.Chrome, live_server: Any, tmp_path: Path
) -> None:
    demo_seed()
    username, password, api = regulator_with_password()
    year = [r["year"] for r in api.get("/api/v1/aggregates/?group_by=year").json()["results"]][-1]
    facility = deposit_in(year, 1)  # January of a past year, deposited today: late
    sign_in(browser, live_server, username, password)
    assert browser.find_element(By.ID, "shown-year").text == str(year)
    panel = browser.find_element(By.ID, "deposits")
    assert panel.get_attribute("data-year") == str(year)
    as_of = panel.get_attribute("data-as-of")
    counts = ("expected", "on_time", "late", "missing", "accepted", "returned")
    for group, table in (("province", "deposits-provinces"), ("sector", "deposits-sectors")):
        answer = api.get(f"/api/v1/aggregates/deposits/?year={year}&group_by={group}&as_of={as_of}").json()
        expected = {row[group]: tuple(str(row[c]) for c in counts) for row in answer["results"]}
        expected["total"] = tuple(str(answer["totals"][c]) for c in counts)
        assert panel_rows(browser, table) == expected
    late = panel_rows(browser, "deposits-provinces")[facility.province]
    assert late[2] == "1"  # the January deposit is counted late in its province
    label = browser.find_element(
        By.CSS_SELECTOR, f'#deposits-provinces tr[data-key="{facility.province}"] td'
    )
    assert label.text == f"{PROVINCES[facility.province]} ({facility.province})"
    browser.save_screenshot(str(screenshot_dir(tmp_path) / f"dashboard-deposits-{year}.png"))


def test_the_deposit_panel_speaks_chinese(client: Any) -> None:
    demo_seed()
    client.force_login(factories.api_user(role="regulator").user)
    english = client.get("/dashboard/", HTTP_HOST="localhost").content.decode()
    assert "Monthly deposits in" in english and 'id="deposits-sectors"' in english
    chinese = client.get(
        "/dashboard/", HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    ).content.decode()
    assert "月度存证" in chinese and "Monthly deposits in" not in chinese
    for text in ("按时", "逾期", "缺失", "已接受", "已退回"):
        assert text in chinese, text
    assert "水泥" in chinese  # the sector's name in Chinese
