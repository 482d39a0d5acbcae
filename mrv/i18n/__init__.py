"""The service in Chinese (zh-Hans) and English: messages translated at the edge, by pattern.

Decision: the engine (``accounting/``) stays free of Django and of gettext, and the services keep writing
their messages in English: what is stored (findings, audit events, an import job's outcome) is English
whatever language the request had, and codes never change. A message is translated when it leaves the
service, in the language of the request (``Accept-Language``, or ``?lang=`` : :mod:`mrv.i18n.middleware`):

* problem documents (:func:`translate_problem`, called by :func:`mrv.api.problems.problem_document`):
  ``title``, ``detail`` and each ``errors[].detail``;
* automated findings (:func:`translate_finding`): ``detail``, ``value`` and ``expected``, at render time
  (a verifier's own findings are shown as written).

Each English message has a template in :mod:`mrv.i18n.messages` (``"unknown unit {unit}"``), marked for
``makemessages``; its translation is the zh-Hans catalogue's entry for that template
(``mrv/locale/zh_Hans/LC_MESSAGES/django.po``). An English text is matched against the templates (the
literal parts exactly, each placeholder any text), the most specific template first; the parameters
found are put into the translated template. A parameter that is itself a message (``{detail}``,
``{what}``, …: :data:`mrv.i18n.messages.NESTED`) is translated in turn, so that composed messages
(``"quantity: unknown unit 'kwh'"``) read in one language. A text that matches no template is shown as
it is, in English (tests/mrv/test_i18n.py fails when a message of the code has no template, or a
template no translation). Messages that Django and DRF write themselves ("This field is required.")
come from their own catalogues.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from django.utils.translation import get_language, gettext

from mrv.i18n.messages import CODES, LISTS, MESSAGES, NESTED, NUMBERS, TITLES

#: What a numeric placeholder matches (a figure in plain notation, with an optional sign).
_NUMBER = r"[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?"
#: What a code placeholder matches (a code, a field name, a status; quoted or not).
_CODE = r"[\w .\-/'\"]+?"


@dataclass(frozen=True, slots=True)
class Template:
    """One English message template, compiled: ``regex`` matches its texts, ``names`` its placeholders."""

    text: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    anchor: str  #: its longest literal part: a text without it cannot match (a cheap test first)
    weight: int  #: the length of its literal parts: the more, the more specific


def compile_template(text: str) -> Template:
    """The matcher of an English template (``str.format`` syntax: ``{name}``, ``{{`` for a brace)."""
    parts: list[str] = []
    names: list[str] = []
    literals: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        if literal:
            parts.append(re.escape(literal))
            literals.append(literal)
        if name is None:
            continue
        if name in names:  # the same parameter twice: the same text twice
            parts.append(f"(?P=g{names.index(name)})")
            continue
        pattern = _NUMBER if name in NUMBERS else _CODE if name in CODES else ".*?"
        parts.append(f"(?P<g{len(names)}>{pattern})")
        names.append(name)
    return Template(
        text=text,
        regex=re.compile("".join(parts), re.DOTALL),
        names=tuple(names),
        anchor=max(literals, key=len, default=""),
        weight=sum(len(literal) for literal in literals),
    )


@cache
def templates() -> tuple[Template, ...]:
    """Every message template, the most specific (most literal text) first."""
    compiled = [compile_template(text) for text in dict.fromkeys(MESSAGES)]
    return tuple(sorted(compiled, key=lambda template: -template.weight))


def match(text: str) -> tuple[Template, dict[str, str]] | None:
    """The template ``text`` was written from, with its parameters, or None."""
    for template in templates():
        if template.anchor not in text:
            continue
        found = template.regex.fullmatch(text)
        if found is not None:
            return template, {name: found.group(f"g{i}") for i, name in enumerate(template.names)}
    return None


def chinese() -> bool:
    """Whether the active language (the request's) is Chinese."""
    return (get_language() or "").lower().startswith("zh")


def translate(text: Any) -> Any:
    """``text`` in the active language (a text that is not a known English message is returned as is)."""
    if not isinstance(text, str) or not text or not chinese():
        return text
    return _translate(get_language() or "", text, 0)


@lru_cache(maxsize=4096)
def _translate(language: str, text: str, depth: int) -> str:
    found = match(text) if depth < 4 else None
    if found is None:
        return text
    template, parameters = found
    translated = gettext(template.text)
    if translated == template.text:
        return text
    for name, value in parameters.items():
        if name in NESTED:
            parameters[name] = _translate(language, value, depth + 1)
        elif name in LISTS:
            parameters[name] = "；".join(_translate(language, part, depth + 1) for part in value.split("; "))
    try:
        return translated.format(**parameters)
    except (KeyError, IndexError, ValueError):  # a catalogue entry with other placeholders: English
        return text


def translate_title(title: Any) -> Any:
    """A problem title: a fixed text (:data:`mrv.i18n.messages.TITLES`), through the catalogue."""
    if not isinstance(title, str) or not chinese():
        return title
    return gettext(title)


def translate_problem(document: dict[str, Any]) -> dict[str, Any]:
    """A problem document's title, detail and field errors in the active language (codes unchanged)."""
    if not chinese():
        return document
    document["title"] = translate_title(document.get("title"))
    document["detail"] = translate(document.get("detail"))
    errors = document.get("errors")
    if isinstance(errors, list):
        document["errors"] = [
            {**error, "detail": translate(error.get("detail"))} if isinstance(error, Mapping) else error
            for error in errors
        ]
    return document


def translate_finding(finding: dict[str, Any]) -> dict[str, Any]:
    """An automated finding's texts in the active language: ``detail``, ``value``, ``expected``."""
    if not chinese() or finding.get("source") != "automated":
        return finding
    for key in ("detail", "value", "expected"):
        finding[key] = translate(finding.get(key))
    return finding


__all__ = [
    "TITLES",
    "chinese",
    "compile_template",
    "match",
    "templates",
    "translate",
    "translate_finding",
    "translate_problem",
    "translate_title",
]
