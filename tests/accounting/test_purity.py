"""accounting/ is pure Python: no Django, and its registry and bundles are checked at start-up."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

import globalwarmingpotentials
import pytest

from accounting import methodologies
from accounting.errors import MethodologyDataError, RegistryError
from accounting.registry import method, registered


def test_accounting_imports_no_django() -> None:
    code = (
        "import sys, accounting; accounting.load_all(); "
        "accounting.calculate({'lines': [{'source': 'electrode', 'quantity': {'value': '1', 'unit': 't'}}]}); "
        "assert not [m for m in sys.modules if m == 'django' or m.startswith('django.')], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registering_a_method_twice_is_an_error() -> None:
    with pytest.raises(RegistryError):
        method("electrode", category="process", fields=(), reference="duplicate")(lambda line, m: None)


def test_every_methodology_resolves_every_line_kind() -> None:
    kinds = {kind for kind, _ in registered()}
    for methodology in methodologies.available():
        assert set(methodology.methods) == kinds


def _bundle(code: str) -> str:
    return (
        resources.files("accounting.data.methodologies").joinpath(f"{code}.toml").read_text(encoding="utf-8")
    )


def test_a_methodology_naming_a_missing_method_fails_at_load() -> None:
    text = _bundle("cn-mee-2024").replace('electrode = "electrode"', 'electrode = "electrode_v9"')
    with pytest.raises(RegistryError):
        methodologies._load(text, "broken.toml")


def test_a_methodology_lacking_data_a_method_needs_fails_at_load() -> None:
    text = _bundle("cn-mee-2024").replace("[electrode]", "[electrode_removed]")
    with pytest.raises(MethodologyDataError):
        methodologies._load(text, "broken.toml")


def test_a_value_without_provenance_fails_at_load() -> None:
    text = _bundle("ipcc-2006").replace('source = "ipcc-2006-3p"', 'source = "nowhere"', 1)
    with pytest.raises(MethodologyDataError):
        methodologies._load(text, "broken.toml")


def test_gwp_values_come_from_the_globalwarmingpotentials_package() -> None:
    table = globalwarmingpotentials.data["AR5GWP100"]
    for methodology in methodologies.available():
        assert methodology.gwp_set == "AR5"
        assert methodology.gwp["CF4"] == 6630 == table["CF4"]
        assert methodology.gwp["C2F6"] == 11100 == table["C2F6"]


def test_methodology_is_immutable() -> None:
    methodology = methodologies.get("cn-mee-2024")
    with pytest.raises(TypeError):
        methodology.data["constants"]["c_to_co2"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        methodology.code = "x"  # type: ignore[misc]


def test_a_large_calculation_restores_the_garbage_collector() -> None:
    import gc

    from accounting import InvalidInput, calculate

    line = {"source": "electrode", "quantity": {"value": "1", "unit": "t"}}
    assert gc.isenabled()
    calculate({"lines": [line] * 2_000})
    assert gc.isenabled()
    with pytest.raises(InvalidInput):
        calculate({"lines": [line] * 1_999 + [{"source": "volcano"}]})
    assert gc.isenabled()
