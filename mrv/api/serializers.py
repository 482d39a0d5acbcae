"""Input and output serializers of the reporting API (separate classes for reading and writing).

Activity lines are not validated here: the engine validates them (with JSON pointers) far faster
than a nested serializer could, so ``lines`` is passed through as parsed, exact JSON.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounting.engine import Calculation
from mrv.domain.provinces import CHOICES as PROVINCES
from mrv.models import AuditEvent, Facility, Organisation, Report, ReportRevision
from mrv.selectors.reports import revision_calculation, revision_lines


class OrganisationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "credit_code", "created_at"]


class OrganisationInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    credit_code = serializers.CharField(max_length=18, min_length=18)


class FacilityOutput(serializers.ModelSerializer):
    operator_name = serializers.CharField(source="operator.name", read_only=True)
    verification_body_name = serializers.CharField(
        source="verification_body.name", read_only=True, default=None
    )

    class Meta:
        model = Facility
        fields = [
            "id",
            "name",
            "operator",
            "operator_name",
            "sector",
            "province",
            "verification_body",
            "verification_body_name",
            "created_at",
        ]


class FacilityInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    operator = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.filter(kind="operator"))
    sector = serializers.ChoiceField(choices=Facility.Sector.choices)
    province = serializers.ChoiceField(choices=PROVINCES)
    verification_body = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind="verification_body"), allow_null=True, required=False
    )


class ReportInput(serializers.Serializer):
    facility = serializers.IntegerField(min_value=1)
    year = serializers.IntegerField(min_value=1990, max_value=2100)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True)
    methodology = serializers.CharField(max_length=32, required=False)
    methodology_version = serializers.CharField(
        max_length=32, required=False, help_text="a published version of the methodology (default: the latest)"
    )


class ReportUpdateInput(serializers.Serializer):
    methodology = serializers.CharField(max_length=32, required=False)
    methodology_version = serializers.CharField(
        max_length=32, required=False, help_text="a published version of the methodology (default: the latest)"
    )


class RevisionOutput(serializers.ModelSerializer):
    revision = serializers.IntegerField(source="number")
    line_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReportRevision
        fields = [
            "revision",
            "status",
            "methodology",
            "methodology_version",
            "digest",
            "line_count",
            "totals",
            "created_at",
            "submitted_at",
            "status_changed_at",
        ]


class AuditEventOutput(serializers.ModelSerializer):
    sequence = serializers.IntegerField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "at",
            "actor",
            "actor_name",
            "organisation",
            "facility",
            "action",
            "object_type",
            "object_id",
            "before_digest",
            "after_digest",
            "data",
            "previous_hash",
            "hash",
        ]


def _verification_job(revision: ReportRevision) -> int | None:
    if revision.status == ReportRevision.Status.DRAFT:
        return None  # a draft has no job (and the query is skipped)
    return next((job.pk for job in revision.verification_jobs.all() if job.kind == "verification"), None)


def report_summary(report: Report, revision: ReportRevision) -> dict[str, Any]:
    """A report as listed: the shown revision's status and figures, without lines."""
    totals = revision.totals or {}
    return {
        "id": report.pk,
        "facility": report.facility_id,
        "sector": report.facility.sector,
        "year": report.year,
        "month": report.month,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "revision": revision.number,
        "status": revision.status,
        "digest": revision.digest or None,
        "totals": totals.get("totals"),
        "intensity": totals.get("intensity"),
        "line_count": revision.line_count,
        "verification_job": _verification_job(revision),
        "created_at": report.created_at,
        "submitted_at": revision.submitted_at,
    }


def report_detail(
    report: Report,
    revision: ReportRevision,
    *,
    lines: list[Any] | None = None,
    calculation: Calculation | None = None,
) -> dict[str, Any]:
    """A report with the shown revision's lines (as given) and per-line results."""
    if lines is None:
        lines = revision_lines(revision=revision)
    if calculation is None:
        calculation = revision_calculation(report=report, revision=revision, lines=lines)
    return {
        **report_summary(report, revision),
        "lines": lines,
        "results": [result.as_json() for result in calculation.lines],
    }
