"""The method registry: line kind × method variant → the function that computes it.

Methods register themselves with :func:`method` when :mod:`accounting.methods` is imported.
A methodology bundle names, for every line kind it supports, the variant it uses
(``[methods]`` in its data file); the bundle is resolved against this registry when it is
loaded, so a methodology that names a missing method, or lacks data a method needs, fails at
start-up and never at request time. Registering the same (kind, variant) twice is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from accounting.errors import RegistryError

if TYPE_CHECKING:
    from accounting.lines import LineReader
    from accounting.methodologies import Methodology

#: Fields every line may carry, whatever its kind.
COMMON_FIELDS = frozenset({"ref", "source", "month", "unit"})
#: Fields the engine (not the method) reads on every emission line (a category other than None): the
#: line's stated uncertainty (:mod:`accounting.uncertainty`).
EMISSION_FIELDS = frozenset({"uncertainty"})

#: Emission categories (SPEC §4); a ``production`` line has none.
CATEGORIES = ("combustion", "process", "indirect_electricity", "indirect_heat")
DIRECT_CATEGORIES = frozenset({"combustion", "process"})

MethodFunction = Callable[["LineReader", "Methodology"], Any]


@dataclass(frozen=True, slots=True)
class Method:
    """A registered calculation method for one line kind."""

    kind: str
    variant: str
    category: str | None
    fields: frozenset[str]
    needs: tuple[str, ...]
    function: MethodFunction
    reference: str
    allowed_fields: frozenset[str]
    #: What each field is (shape, units, required, default): ``accounting.fields`` declares it.
    spec: tuple[Any, ...] = ()


_METHODS: dict[tuple[str, str], Method] = {}


def method(
    kind: str,
    *,
    variant: str | None = None,
    category: str | None,
    fields: tuple[str, ...],
    needs: tuple[str, ...] = (),
    reference: str,
) -> Callable[[MethodFunction], MethodFunction]:
    """Register ``function`` as variant ``variant`` (default: the kind's name) of line kind ``kind``.

    ``fields`` are the line fields the method reads (others are refused as foreign to the kind);
    ``needs`` are dotted paths of methodology data the method cannot work without.
    """
    if category is not None and category not in CATEGORIES:
        raise RegistryError(f"unknown category {category!r} for {kind}")

    def register(function: MethodFunction) -> MethodFunction:
        key = (kind, variant or kind)
        if key in _METHODS:
            raise RegistryError(f"method {key} registered twice")
        _METHODS[key] = Method(
            kind=kind,
            variant=key[1],
            category=category,
            fields=frozenset(fields),
            needs=needs,
            function=function,
            reference=reference,
            allowed_fields=frozenset(fields) | COMMON_FIELDS | (EMISSION_FIELDS if category else frozenset()),
        )
        return function

    return register


def describe(kind: str, spec: tuple[Any, ...]) -> None:
    """Attach the field declarations ``spec`` (:mod:`accounting.fields`) to every variant of ``kind``:
    each variant keeps those of the fields it reads, and of the :data:`EMISSION_FIELDS` it allows."""
    for key, found in _METHODS.items():
        if found.kind == kind:
            _METHODS[key] = replace(
                found, spec=tuple(f for f in spec if f.name in found.allowed_fields - COMMON_FIELDS)
            )


def lookup(kind: str, variant: str) -> Method:
    try:
        return _METHODS[(kind, variant)]
    except KeyError:
        raise RegistryError(f"no method registered for line kind {kind!r}, variant {variant!r}") from None


def registered() -> dict[tuple[str, str], Method]:
    """A copy of the registry (for listings and tests)."""
    return dict(_METHODS)
