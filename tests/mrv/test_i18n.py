"""The service in Chinese: problem documents, findings, the dashboard, the sign-in page and the admin under
``Accept-Language: zh-Hans`` (or ``?lang=zh-hans``), English by default; codes and pointers never change.

And the catalogue is complete: every message the code writes has a template in mrv/i18n/messages.py
that reads it back (found by walking the source), every template and every marked text a zh-Hans
translation (``makemessages`` run into a copy, then ``msgattrib --untranslated``).
"""

from __future__ import annotations

import ast
import re
import shutil
import string
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from mrv import i18n
from mrv.domain.checks import REQUIRED
from mrv.domain.provinces import PROVINCES
from mrv.i18n.messages import TITLES
from mrv.models import SECTOR_LABELS, Finding, Membership
from mrv.services.reports import report_create, report_submit
from mrv.services.verification import checks_run
from tests.mrv.factories import World, api_user, client_for
from tests.mrv.verification_helpers import plausible_cement

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile("[\u4e00-\u9fff]")


def _bad_unit_body() -> dict[str, Any]:
    line = {"ref": "coal", "source": "fuel_combustion", "fuel": "bituminous_coal"}
    return {"methodology": "cn-mee-2024", "lines": [{**line, "quantity": {"value": "1000", "unit": "kwh"}}]}


# -- problem documents ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_problem_document_is_in_chinese_under_accept_language_zh_hans(operator_client: APIClient) -> None:
    chinese = operator_client.post(
        "/api/v1/calculate/", _bad_unit_body(), format="json", HTTP_ACCEPT_LANGUAGE="zh-Hans"
    )
    english = operator_client.post("/api/v1/calculate/", _bad_unit_body(), format="json")
    assert chinese.status_code == english.status_code == 400
    assert chinese["Content-Language"] == "zh-hans" and english["Content-Language"] == "en"
    zh, en = chinese.json(), english.json()
    assert en["title"] == "Invalid input"
    assert zh["title"] == "输入无效"
    assert CJK.search(zh["detail"]) and not CJK.search(en["detail"])
    [error_zh], [error_en] = zh["errors"], en["errors"]
    assert error_en["detail"].startswith("quantity: ") and "unknown unit 'kwh'" in error_en["detail"]
    assert error_zh["detail"].startswith("quantity：未知单位 'kwh'")
    # figures and codes never change
    assert {k: v for k, v in zh.items() if k not in ("title", "detail", "errors")} == {
        k: v for k, v in en.items() if k not in ("title", "detail", "errors")
    }
    assert (error_zh["pointer"], error_zh["code"]) == (error_en["pointer"], error_en["code"])


@pytest.mark.django_db
def test_lang_query_parameter_overrides_the_header(operator_client: APIClient) -> None:
    response = operator_client.post(
        "/api/v1/calculate/?lang=zh-hans", _bad_unit_body(), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["title"] == "输入无效"
    ignored = operator_client.post("/api/v1/calculate/?lang=xx", _bad_unit_body(), format="json")
    assert ignored.json()["title"] == "Invalid input"


@pytest.mark.django_db
def test_a_chinese_locale_of_the_browser_reads_as_zh_hans(operator_client: APIClient) -> None:
    response = operator_client.post(
        "/api/v1/calculate/", _bad_unit_body(), format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8"
    )
    assert response.json()["title"] == "输入无效"


@pytest.mark.django_db
def test_django_and_drf_messages_come_from_their_own_catalogues() -> None:
    response = APIClient().get("/api/v1/reports/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["title"] == "未认证" and CJK.search(response.json()["detail"])


@pytest.mark.django_db
def test_a_service_conflict_reads_in_chinese(world: World) -> None:
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=plausible_cement(),
    ).report
    report_submit(by=world.operator_a.user, report=report)
    client = world.client("operator_a")
    again = client.post(
        f"/api/v1/reports/{report.pk}/submit/",
        {"certify": True},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-Hans",
    )
    assert again.status_code == 409
    assert again.json()["title"] == "与当前状态冲突"
    assert again.json()["detail"].startswith("修订版 1 的状态为 submitted"), again.json()["detail"]


# -- findings ----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_finding_is_in_chinese_and_stored_in_english(world: World) -> None:
    lines = [line for line in plausible_cement() if line["source"] != "electricity"]
    report = report_create(
        by=world.operator_a.user,
        facility=world.facility_a,
        year=2024,
        month=None,
        methodology=None,
        lines=lines,
    ).report
    job = report_submit(by=world.operator_a.user, report=report).verification_jobs.get()
    checks_run(job_id=job.pk)
    stored = Finding.objects.get(job=job, code="no_electricity_line")
    assert stored.detail == "no purchased electricity is reported"  # kept in English with its code
    client = world.client("verifier_a")
    chinese = {
        f["code"]: f
        for f in client.get(f"/api/v1/verification-jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()[
            "findings"
        ]
    }
    english = {f["code"]: f for f in client.get(f"/api/v1/verification-jobs/{job.pk}/").json()["findings"]}
    assert chinese["no_electricity_line"]["detail"] == "未报告外购电力"
    assert chinese["no_electricity_line"]["expected"] == "一条电力数据行（工厂完全自发电的除外）"
    assert english["no_electricity_line"]["detail"] == "no purchased electricity is reported"
    assert chinese.keys() == english.keys()
    for code, finding in chinese.items():
        assert CJK.search(finding["detail"]), (code, finding["detail"])  # every finding of the job
        assert (
            finding["pointer"] == english[code]["pointer"]
            and finding["severity"] == english[code]["severity"]
        )


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("the quantity looks like kg entered as t", "quantity 疑似把 kg 填成了 t"),
        ("the clinker output looks like 1000 times too small", "clinker 产量 疑似小了 1000 倍"),
        (
            "the energy of this bituminous_coal line is beyond what any facility can physically reach",
            "该 bituminous_coal 数据行的能量超出任何设施在物理上可能达到的范围",
        ),
        ("ncv of bituminous_coal", "bituminous_coal 的 ncv"),
        ("0.75 to 1.05 t/t", "0.75 至 1.05 t/t"),
        ("at most 1000000 t (physical limit)", "至多 1000000 t（物理极限）"),
        (
            "monthly fuel_combustion natural_gas lines cover 11 of 12 months",
            "按月填报的 fuel_combustion natural_gas 数据行只覆盖 12 个月中的 11 个月",
        ),
    ],
)
def test_composed_finding_texts_read_in_chinese(english: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert i18n.translate(english) == chinese
    with translation.override("en"):
        assert i18n.translate(english) == english


def test_what_a_finding_names_has_a_translation() -> None:
    with translation.override("zh-hans"):
        for _group, meaning in (item for items in REQUIRED.values() for item in items):
            assert CJK.search(i18n.translate(meaning)), meaning
        for name in [*PROVINCES.values(), *SECTOR_LABELS.values()]:
            assert CJK.search(translation.gettext(name)), name


# -- pages ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_dashboard_is_in_chinese_under_accept_language_zh_hans(client: Any, world: World) -> None:
    client.force_login(world.regulator.user)
    chinese = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    english = client.get("/dashboard/").content.decode()
    assert '<html lang="zh-hans">' in chinese and "已核查排放量" in chinese and "退出登录" in chinese
    assert '<html lang="en">' in english and "Verified emissions" in english and "Sign out" in english
    assert not CJK.search(english)
    client.force_login(world.operator_a.user)  # the 403 page, as an operator sees it
    refused = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert refused.status_code == 403
    assert (
        "此仪表板仅供主管部门用户使用" in refused.content.decode() and "控排企业" in refused.content.decode()
    )


@pytest.mark.django_db
def test_the_sign_in_page_and_the_admin_are_in_chinese(client: Any) -> None:
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "用户名" in login and "密码" in login and "登录" in login
    assert "User name" in client.get("/accounts/login/").content.decode()
    admin = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "登录" in admin and 'lang="zh-hans"' in admin  # Django's own zh-Hans catalogue


# -- the catalogue ---------------------------------------------------------------------------------------
def test_the_zh_hans_catalogue_translates_every_marked_text(tmp_path: Path) -> None:
    """``makemessages`` over a copy of mrv/ merges what the code marks into the committed catalogue: no
    entry may come out untranslated or fuzzy (a new or changed message without its translation)."""
    assert shutil.which("xgettext") and shutil.which("msgattrib"), "gettext: run scripts/services.sh"
    copy = tmp_path / "mrv"
    shutil.copytree(ROOT / "mrv", copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--no-obsolete",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    catalogue = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    for option in ("--untranslated", "--only-fuzzy"):
        found = subprocess.run(
            ["msgattrib", option, "--no-wrap", str(catalogue)], check=True, capture_output=True, text=True
        ).stdout
        assert not re.findall(r'^msgid "(.+)"$', found, re.M), f"{option} in the zh_Hans catalogue:\n{found}"


def test_every_problem_title_is_translated() -> None:
    titles = set(_code_titles()) | {
        HTTPStatus(status).phrase for status in (400, 401, 403, 404, 405, 406, 409)
    }
    titles |= {HTTPStatus(status).phrase for status in (413, 415, 422, 429, 500, 503)}
    assert titles <= set(TITLES), titles - set(TITLES)
    with translation.override("zh-hans"):
        untranslated = [title for title in titles if not CJK.search(i18n.translate_title(title))]
    assert not untranslated


def test_every_message_the_code_writes_reads_in_chinese() -> None:
    """Each message written by the engine, the services, the views and the checks (found in the source)
    is read back by its own template (the same literal text) and comes out in Chinese."""
    messages = _code_messages()
    assert len(messages) > 150  # the walk found them
    missing = []
    with translation.override("zh-hans"):
        for where, template in messages:
            sample, skeleton = _sample(template)
            found = i18n.match(sample)
            if (
                found is None
                or _skeleton(found[0].text) != skeleton
                or not CJK.search(i18n.translate(sample))
            ):
                missing.append(f"{where}: {template}")
    assert not missing, (
        "messages without a template in mrv/i18n/messages.py (then make messages):\n" + "\n".join(missing)
    )


# -- reading the source ------------------------------------------------------------------------------------
#: Calls whose argument at this position is a message to the client.
MESSAGE_CALLS = {
    "fail": 2,
    "FieldError": 2,
    "UnitError": 1,
    "NumberError": 1,
    "InvalidInput": 0,
    "UnknownMethodology": 0,
    "InvalidRequest": 0,
    "Conflict": 0,
    "ServiceError": 0,
    "LineFileError": 0,
    "PermissionDenied": 0,
    "NotFound": 0,
    "ValidationError": 0,
    "IdempotencyKeyReused": 0,
    "Finding": 2,
    "finding": 2,
}
#: Not messages to clients: start-up checks of the methodology bundles and the method registry (a fault
#: of the deployment, logged), management commands.
SKIPPED = ("accounting/methodologies.py", "accounting/registry.py", "mrv/management/", "mrv/migrations/")


def _code_messages() -> list[tuple[str, str]]:
    found = []
    for folder in ("accounting", "mrv"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(SKIPPED) or relative.startswith("mrv/i18n/"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = {
                target.id: node.value.value
                for node in tree.body
                if isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            for node in ast.walk(tree):
                for argument in _message_arguments(node):
                    for template in _templates(argument, constants):
                        if re.search(r"[A-Za-z]{3}", template.replace("{}", "")):
                            found.append((f"{relative}:{node.lineno}", template))
    return found


def _message_arguments(node: ast.AST) -> list[ast.expr]:
    arguments: list[ast.expr] = []
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        position = MESSAGE_CALLS.get(name)
        if position is not None and len(node.args) > position:
            arguments.append(node.args[position])
        arguments += [keyword.value for keyword in node.keywords if keyword.arg == "detail"]
    elif isinstance(node, ast.Dict):
        arguments += [
            value
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and key.value == "detail"
        ]
    return arguments


def _templates(node: ast.expr, constants: dict[str, str]) -> list[str]:
    """The message an expression writes, ``{}`` where a value goes (both branches of a condition)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [re.sub(r"%\((\w+)\)[sd]", "{}", node.value.replace("{", "{{").replace("}", "}}"))]
    if isinstance(node, ast.JoinedStr):
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                text += str(value.value).replace("{", "{{").replace("}", "}}")
            elif isinstance(value.value, ast.Name) and value.value.id in constants:
                text += constants[value.value.id].replace("{", "{{").replace("}", "}}")
            else:
                text += "{}"
        return [text]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _templates(node.left, constants), _templates(node.right, constants)
        return [a + b for a in left or ["{}"] for b in right or ["{}"]] if left or right else []
    if isinstance(node, ast.IfExp):
        return _templates(node.body, constants) + _templates(node.orelse, constants)
    return []


def _skeleton(template: str) -> list[str]:
    """A template's literal parts, in order (adjacent placeholders are one gap)."""
    parts = [literal for literal, _name, _spec, _conv in string.Formatter().parse(template)]
    return [part for part in parts if part]


def _sample(template: str) -> tuple[str, list[str]]:
    """The template filled with plausible values (a figure: the check only knows where a value goes)."""
    pieces = list(string.Formatter().parse(template))
    sample = "".join(literal + ("12" if name is not None else "") for literal, name, _spec, _conv in pieces)
    return sample, _skeleton(template)


def _code_titles() -> list[str]:
    titles = []
    for folder in ("accounting", "mrv"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Assign)
                    and any(getattr(target, "id", "") == "title" for target in node.targets)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    titles.append(node.value.value)
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "title"
                    and isinstance(node.value, ast.Constant)
                ):
                    titles.append(str(node.value.value))
    return titles


@pytest.mark.django_db
def test_the_outsider_of_no_organisation_reads_chinese_too() -> None:
    outsider = api_user(role="operator")
    Membership.objects.filter(user=outsider.user).delete()
    response = client_for(outsider).get("/api/v1/reports/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 403 and response.json()["title"] == "禁止访问"
