"""One definition per vocabulary: sectors, gases and emission categories in the engine (pure), roles and
organisation kinds as TextChoices; the Django choices and check constraints are built from them."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.db import models

from accounting.engine import SECTORS
from accounting.methodologies import GASES
from accounting.registry import CATEGORIES, DIRECT_CATEGORIES
from mrv.domain import workflow
from mrv.models import Facility, Membership, Organisation, ReportRevision
from mrv.selectors import aggregates, scoping

ROOT = Path(__file__).resolve().parents[2]
#: Each vocabulary and the one file allowed to spell it out as a literal.
VOCABULARIES = {
    "sectors": (set(SECTORS), "accounting/engine.py"),
    "gases": (set(GASES), "accounting/methodologies.py"),
    "categories": (set(CATEGORIES), "accounting/registry.py"),
    "roles": (set(Membership.Role.values), None),
    "organisation kinds": (set(Organisation.Kind.values), None),
}


def test_the_django_choices_are_the_engines_and_the_workflows() -> None:
    assert Facility.Sector.values == list(SECTORS)
    assert ReportRevision.Status.values == list(workflow.STATUSES)
    assert set(Membership.KIND_FOR_ROLE) == set(Membership.Role)
    assert set().union(*Membership.KINDS_FOR_ROLE.values()) == set(Organisation.Kind)
    assert all(
        Membership.KIND_FOR_ROLE[role] == kinds[0] for role, kinds in Membership.KINDS_FOR_ROLE.items()
    )
    assert tuple(Membership.Role) == (scoping.OPERATOR, scoping.VERIFIER, scoping.REGULATOR)
    assert aggregates.CATEGORIES is CATEGORIES and aggregates.GASES is GASES
    assert set(aggregates.DIRECT) == DIRECT_CATEGORIES


def test_every_choice_check_constraint_allows_exactly_its_fields_choices() -> None:
    checked = 0
    for model in apps.get_app_config("mrv").get_models():
        for constraint in model._meta.constraints:
            if not isinstance(constraint, models.CheckConstraint):
                continue
            children = constraint.condition.children
            if (
                len(children) != 1
                or not isinstance(children[0], tuple)
                or not children[0][0].endswith("__in")
            ):
                continue
            lookup, values = children[0]
            field = model._meta.get_field(lookup.removesuffix("__in"))
            assert list(values) == [value for value, _ in field.choices], (model.__name__, constraint.name)
            checked += 1
    assert checked >= 4  # organisation kind, membership role, facility sector, revision status


def literal_vocabularies(path: Path) -> list[tuple[int, str]]:
    """Tuples, lists and sets of strings in ``path`` that spell out a whole vocabulary."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            strings = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            found += [(node.lineno, name) for name, (words, _) in VOCABULARIES.items() if strings == words]
    return found


def test_no_module_repeats_a_vocabulary_as_a_literal() -> None:
    owners = {home: name for name, (_, home) in VOCABULARIES.items() if home}
    repeated = {}
    for folder in ("accounting", "mrv", "config"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:  # frozen history keeps its own copies
                continue
            relative = str(path.relative_to(ROOT))
            hits = [(line, name) for line, name in literal_vocabularies(path) if owners.get(relative) != name]
            if hits:
                repeated[relative] = hits
    assert repeated == {}, f"use the one definition instead: {repeated}"
