"""MRV calculation engine: pure Python, no Django.

>>> from accounting import calculate
>>> result = calculate({"methodology": "cn-mee-2024", "lines": [...]})  # doctest: +SKIP
>>> result.as_json()["totals"]["direct"]  # doctest: +SKIP
"""

from accounting.engine import Calculation, LineResult, calculate
from accounting.errors import AccountingError, FieldError, InvalidInput, UnknownMethodology
from accounting.methodologies import Methodology, available, get, load_all

__all__ = [
    "AccountingError",
    "Calculation",
    "FieldError",
    "InvalidInput",
    "LineResult",
    "Methodology",
    "UnknownMethodology",
    "available",
    "calculate",
    "get",
    "load_all",
]
