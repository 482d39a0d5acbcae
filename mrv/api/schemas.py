"""OpenAPI schemas of the calculation endpoints, written out because the engine (not a serializer)
validates and shapes these bodies. Numbers out are strings in plain decimal notation."""

from __future__ import annotations

from typing import Any

from accounting.engine import SECTORS
from accounting.registry import CATEGORIES, registered

DECIMAL_STRING: dict[str, Any] = {
    "type": "string",
    "pattern": r"^-?\d+(\.\d+)?$",
    "description": "exact decimal in plain notation",
    "example": "246395.688",
}
NUMBER_IN: dict[str, Any] = {
    "oneOf": [{"type": "string"}, {"type": "number"}],
    "description": "a decimal, as a JSON string or number (read exactly)",
}
QUANTITY_IN: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"value": NUMBER_IN, "unit": {"type": "string"}},
            "required": ["value", "unit"],
            "additionalProperties": False,
        },
        NUMBER_IN,
    ],
    "description": 'a quantity {"value": "120000", "unit": "t"}, or a plain number for fractions',
}

ACTIVITY_LINE: dict[str, Any] = {
    "type": "object",
    "description": "An activity line; its fields depend on `source` (SPEC §4). Quantities are "
    '{"value", "unit"} objects; fractions may be plain numbers.',
    "properties": {
        "ref": {"type": "string", "maxLength": 64},
        "source": {"type": "string", "enum": sorted({kind for kind, _ in registered()})},
        "month": {"type": "integer", "minimum": 1, "maximum": 12},
    },
    "required": ["source"],
    "additionalProperties": True,
}

CALCULATION_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "methodology": {"type": "string", "example": "cn-mee-2024"},
        "sector": {"type": "string", "enum": list(SECTORS)},
        "year": {"type": "integer", "minimum": 1990, "maximum": 2100},
        "lines": {"type": "array", "items": ACTIVITY_LINE, "minItems": 1, "maxItems": 10000},
    },
    "required": ["lines"],
}

GASES_OUT: dict[str, Any] = {"type": "object", "additionalProperties": DECIMAL_STRING}
PARAMETER_OUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "value": DECIMAL_STRING,
        "unit": {"type": "string"},
        "origin": {"type": "string", "enum": ["measured", "default"]},
        "source": {"type": "string"},
        "table": {"type": "string"},
        "confidence": {"type": "string"},
    },
    "required": ["value", "unit", "origin"],
}
LINE_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ref": {"type": "string"},
        "source": {"type": "string"},
        "month": {"type": "integer", "nullable": True},
        "method": {"type": "string"},
        "category": {"type": "string", "enum": list(CATEGORIES), "nullable": True},
        "gases": GASES_OUT,
        "co2e": DECIMAL_STRING,
        "biogenic_co2": DECIMAL_STRING,
        "origin": {"type": "string", "enum": ["measured", "default"]},
        "parameters": {"type": "object", "additionalProperties": PARAMETER_OUT},
        "product": {"type": "string"},
        "quantity": DECIMAL_STRING,
    },
    "required": ["ref", "source", "category", "gases", "co2e", "biogenic_co2", "parameters"],
}
FIGURES: dict[str, Any] = {"type": "object", "additionalProperties": DECIMAL_STRING}
TOTALS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "direct": DECIMAL_STRING,
        "indirect": DECIMAL_STRING,
        "total": DECIMAL_STRING,
        "co2e": DECIMAL_STRING,
        "by_category": FIGURES,
        "by_gas": FIGURES,
        "biogenic_co2": DECIMAL_STRING,
        "default_share": DECIMAL_STRING,
        "reported": {"type": "object", "description": "figures rounded by the methodology's reporting rule"},
    },
    "required": ["direct", "indirect", "total", "by_category", "by_gas", "biogenic_co2", "reported"],
}
INTENSITY: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "properties": {
        "product": {"type": "string"},
        "production": DECIMAL_STRING,
        "direct": DECIMAL_STRING,
        "total": DECIMAL_STRING,
    },
}
CALCULATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "methodology": {"type": "string"},
        "methodology_version": {"type": "string"},
        "gwp": {"type": "string"},
        "sector": {"type": "string", "nullable": True},
        "year": {"type": "integer", "nullable": True},
        "lines": {"type": "array", "items": LINE_RESULT},
        "totals": TOTALS,
        "intensity": INTENSITY,
    },
    "required": ["methodology", "gwp", "lines", "totals", "intensity"],
}

PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem document (application/problem+json)",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string"},
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                },
                "required": ["pointer", "code", "detail"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

METHODOLOGY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "title": {"type": "string"},
        "version": {"type": "string"},
        "published": {"type": "string"},
        "latest": {"type": "boolean", "description": "the version new reports are calculated under"},
        "supersedes": {"type": "string", "nullable": True, "description": "the version this one corrects"},
        "corrected": {"type": "string", "nullable": True, "description": "date of the correction"},
        "changes": {"type": "array", "items": {"type": "string"}, "description": "what changed"},
        "versions": {"type": "array", "items": {"type": "string"}, "description": "every published version"},
        "default": {"type": "boolean"},
        "gwp": {"type": "object"},
        "c_to_co2": DECIMAL_STRING,
        "rounding": {"type": "object"},
        "line_kinds": {"type": "object"},
        "factors": {"type": "object"},
        "sources": {"type": "object"},
        "products": {"type": "object"},
    },
    "required": ["code", "version", "gwp", "rounding", "line_kinds"],
}
METHODOLOGY_LIST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "next": {"type": "string", "nullable": True},
        "previous": {"type": "string", "nullable": True},
        "results": {"type": "array", "items": METHODOLOGY},
    },
    "required": ["results"],
}
UNITS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "dimensions": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "refused": {"type": "object", "additionalProperties": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["dimensions"],
}

CALCULATE_EXAMPLE: dict[str, Any] = {
    "methodology": "cn-mee-2024",
    "sector": "cement",
    "year": 2024,
    "lines": [
        {
            "ref": "kiln-coal",
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": {"value": "120000", "unit": "t"},
            "ncv": {"value": "23.000", "unit": "GJ/t"},
        },
        {
            "ref": "clinker-output",
            "source": "production",
            "product": "clinker",
            "quantity": {"value": "1000000", "unit": "t"},
        },
    ],
}
