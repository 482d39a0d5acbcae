"""Reads of evidence files: a revision's own evidence, what of it the submit digest covers, and the files
uploaded for a request for information (never part of a revision's own evidence)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from mrv.models import Evidence, InformationRequest, ReportRevision


def evidence_of(*, revision: ReportRevision) -> QuerySet[Evidence]:
    """The revision's own evidence files, in upload order (not those uploaded for a request for
    information while it was under verification: :func:`evidence_of_request`)."""
    return (
        Evidence.objects.filter(revision=revision, request__isnull=True)
        .select_related("uploaded_by")
        .order_by("id")
    )


def evidence_of_request(*, request: InformationRequest) -> QuerySet[Evidence]:
    """The files uploaded for a request for information, in upload order."""
    return Evidence.objects.filter(request=request).select_related("revision", "uploaded_by").order_by("id")


def digest_items(*, revision: ReportRevision) -> list[dict[str, Any]]:
    """What the submit digest covers of the revision's evidence: ``{sha256, size, kind, line_ref, parameter}``
    of each file, sorted (the order of uploads does not matter), none of the names the client chose. Empty
    for a revision without evidence (whose digest then stays what it was before evidence existed)."""
    rows = Evidence.objects.filter(revision=revision, request__isnull=True).values_list(
        "sha256", "size", "kind", "line_ref", "parameter"
    )
    items = [
        {
            "sha256": sha256,
            "size": size,
            "kind": kind,
            "line_ref": line_ref or None,
            "parameter": parameter or None,
        }
        for sha256, size, kind, line_ref, parameter in rows
    ]
    return sorted(
        items,
        key=lambda item: (item["sha256"], item["kind"], item["line_ref"] or "", item["parameter"] or ""),
    )
