"""The operator's CBAM communication to importers (2025/2547 Annex IV), from a stored annual report.

:func:`cbam_communication` computes the embedded emissions of the revision's stored CBAM data (the
methodology version pinned when it was stored) and lays them out as the communication: operator and
installation, period, processes with their attributed emissions and disclosures, and per good its CN code,
SEE direct, indirect and total (to 5 decimals, exact beside), the basis of the electricity factor, the
precursors with their country, SEE and whether actual or default, and the share resting on default values.
:func:`communication_table` is the same as an XLSX workbook (numeric cells; text neutralised against formulas
by the workbook writer, mrv/domain/cells.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounting import cbam as engine
from accounting.numbers import INTENSITY_PLACES, plain, present
from mrv.errors import Conflict
from mrv.models import Report, ReportRevision
from mrv.services.cbam import cbam_payload


def cbam_communication(*, report: Report, revision: ReportRevision) -> dict[str, Any]:
    """The communication of ``revision`` (the one the user may see) of ``report``; 409 without CBAM data."""
    if revision.cbam is None:
        raise Conflict(
            f"revision {revision.number} of report {report.pk} has no CBAM process data: give a draft of the "
            f"report a cbam object (PATCH /api/v1/reports/{report.pk}/)"
        )
    facility = report.facility
    lines = list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))
    body = cbam_payload(facility=facility, year=report.year, data=revision.cbam, lines=lines)
    result = engine.embedded_emissions(body)
    answer = result.as_json()
    processes, goods, precursors = [], [], []
    for process in answer["processes"]:
        attribution = process["attribution"]
        processes.append(
            {
                "ref": process["ref"],
                "category": process["category"],
                "category_label": process["category_label"],
                "route": process["route"],
                "activity_level": process["activity_level"],
                "direct_emissions": process["direct_emissions"],
                "attributed_direct": process["attributed_direct"],
                "attributed_indirect": process["attributed_indirect"],
                "reported_attributed_direct": process["reported"]["attributed_direct"],
                "reported_attributed_indirect": process["reported"]["attributed_indirect"],
                "heat_imported": attribution["heat_imported"],
                "heat_exported": attribution["heat_exported"],
                "waste_gases_exported": attribution["waste_gases_exported"],
                "electricity_produced": attribution["electricity_produced"],
            }
        )
        electricity = process["electricity"] or {}
        parameters = _sector_parameters(process)
        for good in process["goods"]:
            goods.append(
                {
                    "process": process["ref"],
                    "cn_code": good["cn_code"],
                    "category": process["category"],
                    "route": process["route"],
                    "quantity": good["quantity"],
                    "see_direct": good["reported"]["see_direct"],
                    "see_indirect": good["reported"]["see_indirect"],
                    "see_total": good["reported"]["see_total"],
                    "see_direct_exact": good["see_direct"],
                    "see_indirect_exact": good["see_indirect"],
                    "see_total_exact": good["see_total"],
                    "indirect_counted": process["indirect_counted"],
                    "electricity_basis": electricity.get("basis"),
                    "electricity_emission_factor": electricity.get("emission_factor"),
                    "default_share": process["default_share"],
                    "default": good["default"],
                    "parameters": parameters,
                    "precursors": [
                        {key: p[key] for key in ("cn_code", "country", "see_direct", "see_indirect", "basis")}
                        for p in process["precursors"]
                    ],
                }
            )
        for precursor in process["precursors"]:
            precursors.append(
                {
                    "process": process["ref"],
                    "cn_code": precursor["cn_code"],
                    "category": precursor["category"],
                    "country": precursor["country"],
                    "period": answer["period"],
                    "quantity": precursor["quantity"],
                    "see_direct": precursor["see_direct"],
                    "see_indirect": precursor["see_indirect"],
                    "basis": precursor["basis"],
                    "origin": precursor["origin"],
                    "made_in_process": precursor["process"],
                }
            )
    return {
        "report": report.pk,
        "revision": revision.number,
        "status": revision.status,
        "verified": revision.status == ReportRevision.Status.VERIFIED,
        "digest": revision.digest or None,
        "operator": {"name": facility.operator.name},
        "installation": answer["installation"],
        "year": answer["year"],
        "period": answer["period"],
        "methodology": answer["methodology"],
        "methodology_version": answer["methodology_version"],
        "rounding": answer["rounding"],
        "processes": processes,
        "goods": goods,
        "precursors": precursors,
    }


def _sector_parameters(process: dict[str, Any]) -> dict[str, Any]:
    """Sector parameters of the communication the data gives: cement's clinker/cement ratio."""
    if process["category"] != "cement":
        return {}
    clinker = sum(
        (p["quantity"] for p in process["precursors"] if p["category"] == "cement_clinker"), Decimal(0)
    )
    return {"clinker_cement_ratio": present(clinker / process["activity_level"], INTENSITY_PLACES)}


_GOODS_COLUMNS = [
    "process",
    "cn_code",
    "category",
    "route",
    "quantity",
    "see_direct",
    "see_indirect",
    "see_total",
    "indirect_counted",
    "electricity_basis",
    "electricity_emission_factor",
    "default_share",
    "precursors",
    "see_direct_exact",
    "see_indirect_exact",
    "see_total_exact",
]
_PRECURSOR_COLUMNS = [
    "process",
    "cn_code",
    "category",
    "country",
    "period",
    "quantity",
    "see_direct",
    "see_indirect",
    "basis",
    "origin",
    "made_in_process",
]
_PROCESS_COLUMNS = [
    "ref",
    "category",
    "route",
    "activity_level",
    "direct_emissions",
    "attributed_direct",
    "attributed_indirect",
    "reported_attributed_direct",
    "reported_attributed_indirect",
    "heat_imported",
    "heat_exported",
    "waste_gases_exported",
    "electricity_produced",
]


def communication_table(communication: dict[str, Any]) -> dict[str, Any]:
    """The communication as an XLSX workbook: Communication (who, where, when, how), Goods, Precursors,
    Processes. Figures are numeric cells (SEE to 5 decimals as reported; exact SEE as text beside)."""
    installation = communication["installation"]
    summary = [
        ("report", communication["report"]),
        ("revision", communication["revision"]),
        ("status", communication["status"]),
        ("digest", communication["digest"]),
        ("operator", communication["operator"]["name"]),
        ("installation", installation["name"]),
        ("country", installation["country"]),
        ("unlocode", installation["unlocode"]),
        ("address", installation["address"]),
        ("period", f"{communication['period']['start']} to {communication['period']['end']}"),
        ("methodology", f"{communication['methodology']}@{communication['methodology_version']}"),
        ("see rounding", "5 decimals, half up; exact figures in the *_exact columns"),
    ]
    goods = []
    for good in communication["goods"]:
        row = dict(good)
        row["indirect_counted"] = "yes" if good["indirect_counted"] else "no"
        for key in ("see_direct_exact", "see_indirect_exact", "see_total_exact"):
            row[key] = plain(good[key])  # text: more digits than a spreadsheet number keeps
        row["precursors"] = "; ".join(
            f"{p['cn_code']} {p['country']} {plain(p['see_direct'])}/{plain(p['see_indirect'])} {p['basis']}"
            for p in good["precursors"]
        )
        goods.append(row)
    precursors = [
        {**p, "period": f"{p['period']['start']} to {p['period']['end']}"}
        for p in communication["precursors"]
    ]
    see_format = "0.00000"
    return {
        "filename": f"cbam-communication-report-{communication['report']}-r{communication['revision']}",
        "columns": ["field", "value"],
        "rows": [],
        "sheets": [
            {
                "title": "Communication",
                "columns": ["field", "value"],
                "rows": [{"field": key, "value": value} for key, value in summary],
            },
            {
                "title": "Goods",
                "columns": _GOODS_COLUMNS,
                "rows": goods,
                "formats": {"see_direct": see_format, "see_indirect": see_format, "see_total": see_format},
            },
            {"title": "Precursors", "columns": _PRECURSOR_COLUMNS, "rows": precursors},
            {"title": "Processes", "columns": _PROCESS_COLUMNS, "rows": communication["processes"]},
        ],
    }
