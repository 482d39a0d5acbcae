"""The declared fields of each line kind match what the registered methods read."""

from __future__ import annotations

import accounting.methods  # noqa: F401  (registers and describes the methods)
from accounting import fields
from accounting.registry import COMMON_FIELDS, EMISSION_FIELDS, registered
from accounting.units import conversion


def test_every_registered_method_describes_exactly_the_fields_it_reads() -> None:
    # ... and every emission line the fields the engine reads on it (its stated uncertainty)
    for key, method in registered().items():
        declared = [f.name for f in method.spec]
        assert len(declared) == len(set(declared)), key
        engine = EMISSION_FIELDS if method.category is not None else frozenset()
        assert set(declared) == (method.fields - COMMON_FIELDS) | engine, (
            f"{key}: declared {sorted(declared)}"
        )
        assert set(declared) == method.allowed_fields - COMMON_FIELDS, key
        assert not set(declared) & COMMON_FIELDS, key


def test_the_uncertainty_field_is_declared_with_its_parts() -> None:
    assert fields.UNCERTAINTY.shape == fields.OBJECT
    assert [part.name for part in fields.UNCERTAINTY.parts] == ["activity_percent", "factor_percent", "tier"]
    tier = fields.UNCERTAINTY.parts[2]
    assert tier.shape == fields.INTEGER and tier.choices == ("1", "2", "3", "4")


def test_every_described_kind_is_registered() -> None:
    kinds = {kind for kind, _variant in registered()}
    assert set(fields.LINE_FIELDS) == kinds


def _walk(declared: tuple[fields.Field, ...]) -> list[fields.Field]:
    found = []
    for field in declared:
        found.append(field)
        found.extend(_walk(field.parts))
    return found


def test_declared_units_are_units_the_engine_reads() -> None:
    for kind, declared in fields.LINE_FIELDS.items():
        for field in _walk(declared):
            assert field.shape in fields.SHAPES, (kind, field.name)
            if field.shape in (fields.QUANTITY, fields.FRACTION):
                assert field.units, (kind, field.name)
                for unit in field.units:
                    assert conversion(unit, (unit,))[0] == unit
                assert set(field.units) <= set(fields.spellings(field.units)) | {"GJ/m3", "tC/m3", "tCO2/m3"}
            if field.shape in (fields.OBJECT, fields.LIST):
                assert field.parts, (kind, field.name)
            if field.shape == fields.CHOICE:
                assert field.choices, (kind, field.name)


def test_spellings_are_the_usual_spellings_of_the_dimension() -> None:
    assert fields.spellings(("t",)) == ("t", "kt", "Mt", "kg", "g", "Gg")
    assert "MJ/kg" in fields.spellings(("GJ/t",))
    assert "%" in fields.spellings(("1",))
    assert "kWh" in fields.spellings(("MWh",)) and "t" not in fields.spellings(("MWh",))
