"""OpenAPI schemas written out because the engine (not a serializer) validates these bodies: activity
lines, one schema per line kind derived from the registered methods and their declared fields
(:mod:`accounting.fields`), discriminated by ``source``; the calculation request; methodologies and
units. Outputs are described by the serializers of :mod:`mrv.api.serializers`. Numbers out are strings
in plain decimal notation."""

from __future__ import annotations

from functools import cache
from typing import Any

import accounting.methods  # noqa: F401  (registers and describes every line kind)
from accounting import fields
from accounting.engine import MAX_LINES, SECTORS
from accounting.lines import MAX_ITEMS
from accounting.registry import Method, registered

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
#: Components the views refer to by ``$ref`` (see :func:`components`, which
#: :func:`mrv.api.openapi.document_problems` adds to the schema).
COMPONENTS: dict[str, dict[str, Any]] = {}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


COMPONENTS["Quantity"] = {
    "type": "object",
    "description": "A value with its unit. The value is an exact decimal (a JSON string or number).",
    "properties": {"value": NUMBER_IN, "unit": {"type": "string", "maxLength": 64, "example": "t"}},
    "required": ["value", "unit"],
    "additionalProperties": False,
}


def _component_name(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_")) + "Line"


def _about(field: fields.Field) -> str:
    text = field.description[:1].upper() + field.description[1:] + "."
    if field.shape in (fields.QUANTITY, fields.TEMPERATURE):
        usual = ", ".join(fields.spellings(field.units) or field.units)
        text += f" Computed in {' or '.join(field.units)}; any unit of the same dimension converts (e.g. {usual})."
    elif field.shape == fields.FRACTION:
        upper = field.upper or "1"
        text += (
            f' A plain fraction from 0 to {upper}, or a quantity in % (e.g. {{"value": "65", "unit": "%"}}).'
        )
    elif field.shape == fields.COEFFICIENT:
        text += f' In {field.units[0]}: a plain number, or {{"value", "unit": "{field.units[0]}"}}.'
    elif field.shape == fields.CODE:
        text += f" A key of the methodology's `{field.codes}` table (GET /api/v1/methodologies/{{code}}/)."
    if field.default:
        text += f" Default when absent: {field.default}."
    return text


def _field_schema(field: fields.Field) -> dict[str, Any]:
    """The JSON schema of one declared line field."""
    about = {"description": _about(field)}
    if field.units:
        about["x-units"] = list(field.units)
    if field.shape == fields.QUANTITY and "1" in field.units:
        return {"oneOf": [ref("Quantity"), NUMBER_IN], **about}
    if field.shape in (fields.QUANTITY, fields.TEMPERATURE):
        return {"allOf": [ref("Quantity")], **about}
    if field.shape in (fields.FRACTION, fields.COEFFICIENT):
        return {"oneOf": [NUMBER_IN, ref("Quantity")], **about}
    if field.shape == fields.CHOICE:
        return {"type": "string", "enum": list(field.choices), **about}
    if field.shape == fields.INTEGER:
        return {"type": "integer", "enum": [int(choice) for choice in field.choices], **about}
    if field.shape == fields.CODE:
        return {"type": "string", "maxLength": 128, **about}
    if field.shape == fields.LABEL:
        return {"type": "string", "minLength": 1, "maxLength": 128, **about}
    item = _object_schema(field.parts)
    if field.shape == fields.OBJECT:
        return {**item, **about, **({"minProperties": 1} if "required" not in item else {})}
    return {
        "type": "array",
        "items": item,
        "maxItems": MAX_ITEMS,
        **({"minItems": 1} if field.required else {}),
        **about,
    }


def _object_schema(parts: tuple[fields.Field, ...]) -> dict[str, Any]:
    required = [part.name for part in parts if part.required]
    return {
        "type": "object",
        "properties": {part.name: _field_schema(part) for part in parts},
        **({"required": required} if required else {}),  # OpenAPI 3.0: a required list is never empty
        "additionalProperties": False,
    }


def _line_schema(kind: str, methods: list[Method]) -> dict[str, Any]:
    """One line kind: the common fields, then the fields its method(s) read, from the registry."""
    declared: dict[str, fields.Field] = {}
    for found in methods:
        for field in found.spec:
            declared.setdefault(field.name, field)
    body = _object_schema(tuple(declared.values()))
    variants = "; ".join(
        f"`{m.variant}`: {(m.function.__doc__ or '').strip().splitlines()[0]} ({m.reference})"
        for m in methods
    )
    category = methods[0].category or "none (production data for intensities)"
    return {
        "type": "object",
        "title": kind,
        "description": f"Activity line `source: {kind}`, category {category}. Method(s) by methodology: "
        f"{variants}",
        "properties": {
            "source": {"type": "string", "enum": [kind]},
            "ref": {"type": "string", "maxLength": 64, "description": "your reference for the line"},
            "month": {"type": "integer", "minimum": 1, "maximum": 12, "description": "for monthly lines"},
            "unit": {
                "type": "string",
                "pattern": fields.UNIT_PATTERN,
                "maxLength": fields.UNIT_MAX_LENGTH,
                "description": fields.UNIT.description,
            },
            **body["properties"],
        },
        "required": ["source", *body.get("required", ())],
        "additionalProperties": False,
    }


def _line_kinds() -> dict[str, list[Method]]:
    kinds: dict[str, list[Method]] = {}
    for (kind, _variant), found in sorted(registered().items()):
        kinds.setdefault(kind, []).append(found)
    return kinds


def line_kinds() -> dict[str, str]:
    """Line kind → the name of its component."""
    return {kind: _component_name(kind) for kind in _line_kinds()}


@cache
def components() -> dict[str, dict[str, Any]]:
    """Every component the views refer to: :data:`COMPONENTS` and one schema per line kind."""
    found = dict(COMPONENTS)
    names = line_kinds()
    for kind, methods in _line_kinds().items():
        found[names[kind]] = _line_schema(kind, methods)
    found["ActivityLine"] = {
        "description": "An activity line: its fields depend on `source` (one schema per line kind, from the "
        'methods registered in the engine). Quantities are {"value", "unit"} objects in any unit of the '
        "right dimension; fractions may be plain numbers; unknown fields are refused.",
        "oneOf": [ref(name) for name in names.values()],
        "discriminator": {
            "propertyName": "source",
            "mapping": {kind: ref(name)["$ref"] for kind, name in names.items()},
        },
    }
    return found


ACTIVITY_LINE: dict[str, Any] = ref("ActivityLine")
ACTIVITY_LINES: dict[str, Any] = {
    "type": "array",
    "items": ACTIVITY_LINE,
    "minItems": 1,
    "maxItems": MAX_LINES,
}

CALCULATION_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "methodology": {"type": "string", "example": "cn-mee-2024"},
        "sector": {"type": "string", "enum": list(SECTORS)},
        "year": {"type": "integer", "minimum": 1990, "maximum": 2100},
        "methodology_version": {
            "type": "string",
            "description": "a published version of the methodology (default: the latest)",
            "example": "2024.2",
        },
        "lines": ACTIVITY_LINES,
    },
    "additionalProperties": False,
    "required": ["lines"],
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
        "gwp": {
            "type": "object",
            "properties": {
                "set": {"type": "string", "example": "AR5"},
                "values": {
                    "type": "object",
                    "additionalProperties": DECIMAL_STRING,
                    "description": "GWP by gas",
                },
                "source": {"type": "string"},
            },
            "required": ["set", "values"],
        },
        "c_to_co2": DECIMAL_STRING,
        "rounding": {
            "type": "object",
            "properties": {
                "places": {"type": "integer"},
                "mode": {"type": "string", "enum": ["half_up", "half_even"]},
            },
            "required": ["places", "mode"],
            "description": "the reporting rule of the reported figures",
        },
        "line_kinds": {
            "type": "object",
            "description": "line kind → the method this version uses (fields: the ActivityLine schema)",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "method": {"type": "string"},
                    "category": {"type": "string", "nullable": True},
                    "reference": {"type": "string"},
                },
                "required": ["method", "category", "reference"],
            },
        },
        "factors": {
            "type": "object",
            "description": "factor tables by name (fuels, grid_factors, ...): nested tables whose leaves are "
            "factors {value, unit, source, table, confidence}",
            "additionalProperties": {"type": "object", "additionalProperties": True},
        },
        "sources": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "source key → citation",
        },
        "products": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "sector → the product its intensity is per",
        },
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
