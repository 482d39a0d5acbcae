"""Input and output serializers of the reporting API (separate classes for reading and writing).

Activity lines are not validated here: the engine validates them (with JSON pointers) far faster
than a nested serializer could, so ``lines`` is passed through as parsed, exact JSON.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounting.engine import Calculation
from accounting.methodologies import GASES
from accounting.numbers import TONNE_PLACES, plain, present
from accounting.registry import CATEGORIES
from mrv.api import schemas
from mrv.domain import linefiles
from mrv.domain.provinces import CHOICES as PROVINCES
from mrv.models import (
    JOB_STATUSES_SHOWN,
    AuditEvent,
    Certification,
    Facility,
    Finding,
    ImportJob,
    Organisation,
    Report,
    ReportRevision,
    VerificationJob,
)
from mrv.selectors.aggregates import GROUPS
from mrv.selectors.deposits import REVIEW_STATES, deposit_review, report_deposit
from mrv.selectors.reports import revision_calculation, revision_lines


class OrganisationOutput(serializers.ModelSerializer):
    provinces = serializers.ListField(
        child=serializers.CharField(), help_text="an authority's provinces (ISO 3166-2:CN); empty: national"
    )

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "credit_code", "provinces", "created_at"]


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
        max_length=32,
        required=False,
        help_text="a published version of the methodology (default: the latest)",
    )


class ReportUpdateInput(serializers.Serializer):
    methodology = serializers.CharField(max_length=32, required=False)
    methodology_version = serializers.CharField(
        max_length=32,
        required=False,
        help_text="a published version of the methodology (default: the latest)",
    )


class AuditEventOutput(serializers.ModelSerializer):
    sequence = serializers.IntegerField(read_only=True, help_text="the event's place in its chain")

    class Meta:
        model = AuditEvent
        fields = [
            "chain",
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
        "sector": report.sector,  # the sector the report was filed under
        "year": report.year,
        "month": report.month,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "revision": revision.number,
        "status": revision.status,
        "digest": revision.digest or None,
        "totals": totals.get("totals"),
        "intensity": totals.get("intensity"),
        "units": totals.get("units") or {},
        "line_count": revision.line_count,
        "verification_job": _verification_job(revision),
        "created_at": report.created_at,
        "submitted_at": revision.submitted_at,
        **report_deposit(report, revision),
        "review": deposit_review(report, revision),
    }


def certification_of(revision: ReportRevision) -> dict[str, Any] | None:
    """The revision's sign-off (one query for a submitted revision; a draft has none)."""
    if revision.status == ReportRevision.Status.DRAFT:
        return None
    found = Certification.objects.select_related("certified_by").filter(revision_id=revision.pk).first()
    if found is None:
        return None
    return {
        "statement": found.statement,
        "name": found.name,
        "username": found.certified_by.get_username(),
        "organisation": found.organisation_id,
        "capability": found.capability,
        "at": found.at,
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
        "certification": certification_of(revision),
        "lines": lines,
        "results": [result.as_json() for result in calculation.lines],
        "cbam": revision.cbam,
    }


# -- output serializers: what the API returns, field by field (and so its OpenAPI schema) ------------------
@extend_schema_field(schemas.DECIMAL_STRING)
class DecimalString(serializers.DecimalField):
    """An exact decimal out, as a string in plain notation (never an exponent); stored text passes as is.

    With ``places``, a number is presented as every figure is (``accounting.numbers.present``: rounded
    to ``places``, no trailing zeros), so a column read back from the database with its twelve decimal
    places shows ``"150"``, not ``"150.000000000000"``.
    """

    def __init__(self, *, places: int | None = None, **kwargs: Any) -> None:
        self.places = places
        super().__init__(max_digits=None, decimal_places=None, coerce_to_string=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return plain(number if self.places is None else present(number, self.places))


CBAM_HELP = (
    "annual reports: CBAM process data, the body of POST /api/v1/cbam/embedded-emissions/ without year "
    "(installation defaults to the facility); a process may name the report's lines by ref in line_refs "
    "instead of giving lines; checked like that body, errors point into /cbam (or at the named line)"
)


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class CbamDataField(serializers.Field):
    """A revision's CBAM process data as stored (numbers as text): passed through."""

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(schemas.ACTIVITY_LINES)
class ActivityLinesField(serializers.Field):
    """A revision's activity lines exactly as given (the engine validated them): passed through."""

    def to_representation(self, value: Any) -> Any:
        return value


def _figures(name: str, keys: tuple[str, ...], doc: str) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), {"__doc__": doc, **{key: DecimalString() for key in keys}})


ByCategoryOutput = _figures("ByCategoryOutput", CATEGORIES, "Tonnes CO2e by emission category.")
ByGasOutput = _figures("ByGasOutput", GASES, "Tonnes of each gas.")


class RoundingOutput(serializers.Serializer):
    places = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=["half_up", "half_even"])


class ReportedFiguresOutput(serializers.Serializer):
    """The figures as reported: rounded by the methodology's reporting rule."""

    direct = DecimalString()
    indirect = DecimalString()
    total = DecimalString()
    co2e = DecimalString()
    by_category = ByCategoryOutput()
    biogenic_co2 = DecimalString()
    rounding = RoundingOutput()


@extend_schema_field({**schemas.DECIMAL_STRING, "nullable": True, "example": "3.6056"})
class PercentString(DecimalString):
    """A percentage out (an exact decimal as a string), or null where it is undefined (a zero sum)."""


class CoverageOutput(serializers.Serializer):
    """How much of the emissions the stated uncertainties cover."""

    lines = serializers.IntegerField(help_text="emission lines that state an uncertainty")
    emission_lines = serializers.IntegerField(help_text="every emission line (production lines excluded)")
    co2e_share = DecimalString(
        help_text="Σ|CO2e| of the lines that state one / Σ|CO2e| of every emission line"
    )


class TotalsUncertaintyOutput(serializers.Serializer):
    """The totals' uncertainty, ±% at 95 % (IPCC 2006 Vol. 1 Ch. 3 Approach 1, Eq. 3.1 over the lines):
    null where the sum is zero. Lines that state no uncertainty count as exact (0 %), so with a coverage
    below 1 these are lower bounds."""

    direct_percent = PercentString()
    indirect_percent = PercentString()
    total_percent = PercentString()
    by_category = serializers.DictField(child=PercentString(), help_text="by emission category")
    coverage = CoverageOutput()
    lines_without_uncertainty = serializers.ChoiceField(
        choices=["counted_as_exact"], help_text="how lines that state no uncertainty are counted"
    )
    method = serializers.CharField(help_text="the propagation rule applied")


class LineUncertaintyOutput(serializers.Serializer):
    """The uncertainty a line states, ±% at 95 % (null: not stated, counted as 0)."""

    activity_percent = PercentString(help_text="of the activity data (from the tier when a tier is given)")
    factor_percent = PercentString(help_text="of the factor(s)")
    tier = serializers.IntegerField(required=False, help_text="the tier of the activity data, when given")
    tier_source = serializers.CharField(required=False, help_text="where the tier's threshold comes from")


class TotalsOutput(serializers.Serializer):
    """Tonnes CO2e (6 decimals, exact sums), and the same figures rounded as reported."""

    direct = DecimalString(help_text="combustion + process")
    indirect = DecimalString(help_text="purchased electricity and heat")
    total = DecimalString()
    co2e = DecimalString(required=False, help_text="equals total")
    by_category = ByCategoryOutput()
    by_gas = ByGasOutput(help_text="tonnes of each gas (not CO2e)")
    biogenic_co2 = DecimalString(help_text="memo item, not in the totals")
    default_share = DecimalString(required=False, help_text="share of the total computed with default values")
    reported = ReportedFiguresOutput()
    uncertainty_percent = PercentString(
        required=False, help_text="±% at 95 % of the total (present when a line states an uncertainty)"
    )
    uncertainty = TotalsUncertaintyOutput(
        required=False, help_text="present when a line states an uncertainty"
    )


class IntensityOutput(serializers.Serializer):
    """Tonnes CO2e per tonne of the sector's intensity product."""

    product = serializers.CharField()
    production = DecimalString(help_text="tonnes of the product")
    direct = DecimalString()
    total = DecimalString()


class ParameterOutput(serializers.Serializer):
    """A value a method used, in the unit it computed in, with its origin (and provenance for defaults)."""

    value = DecimalString()
    unit = serializers.CharField()
    origin = serializers.ChoiceField(choices=["measured", "default"])
    source = serializers.CharField(required=False, help_text="citation of a default value")
    table = serializers.CharField(required=False)
    confidence = serializers.CharField(required=False)


class LineResultOutput(serializers.Serializer):
    """The result of one activity line (same order as the lines)."""

    ref = serializers.CharField()
    source = serializers.CharField(help_text="the line kind")
    month = serializers.IntegerField(allow_null=True)
    method = serializers.CharField(help_text="the registered method variant the methodology uses")
    category = serializers.ChoiceField(choices=CATEGORIES, allow_null=True)
    gases = serializers.DictField(child=DecimalString(), help_text="tonnes of each gas emitted")
    co2e = DecimalString()
    biogenic_co2 = DecimalString()
    origin = serializers.ChoiceField(
        choices=["measured", "default"], help_text="default if any default was used"
    )
    parameters = serializers.DictField(child=ParameterOutput(), help_text="every value used, by field path")
    product = serializers.CharField(required=False, help_text="production lines")
    quantity = DecimalString(required=False, help_text="production lines: tonnes")
    uncertainty_percent = DecimalString(
        required=False,
        help_text="±% at 95 % of the line's CO2e, sqrt(activity² + factor²) (IPCC 2006 Vol. 1 Eq. 3.2); "
        "present when the line states an uncertainty",
    )
    uncertainty = LineUncertaintyOutput(required=False, help_text="what the line states")
    unit = serializers.CharField(
        required=False, help_text="the production unit the line belongs to, if given"
    )


@extend_schema_field(LineResultOutput(many=True))
class LineResultsField(serializers.Field):
    """Per-line results as the engine presents them: passed through (a 10,000-line report renders in
    milliseconds); :class:`LineResultOutput` documents them and a test holds the two together."""

    def to_representation(self, value: Any) -> Any:
        return value


class UnitIntensityOutput(serializers.Serializer):
    """A production unit's direct intensity: its direct tCO2e per tonne of the sector's intensity product."""

    product = serializers.CharField()
    production = DecimalString(help_text="tonnes of the product made by the unit")
    direct = DecimalString()


class UnitFiguresOutput(serializers.Serializer):
    """One production unit's figures: the lines naming it, their emissions, production and intensity."""

    lines = serializers.IntegerField()
    direct = DecimalString()
    indirect = DecimalString()
    total = DecimalString()
    by_category = ByCategoryOutput()
    production = serializers.DictField(child=DecimalString(), help_text="product → tonnes")
    intensity = UnitIntensityOutput(allow_null=True)


class CalculationOutput(serializers.Serializer):
    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    gwp = serializers.CharField(help_text="the GWP set of the methodology")
    sector = serializers.ChoiceField(choices=Facility.Sector.choices, allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    lines = LineResultsField()
    totals = TotalsOutput()
    intensity = IntensityOutput(allow_null=True)
    units = serializers.DictField(child=UnitFiguresOutput(), help_text="figures per production unit (`unit`)")


class ReportCreate(ReportInput):
    """The body of a report create: the period, the methodology, and the activity lines."""

    lines = ActivityLinesField(
        required=False,
        help_text="the activity lines (validated by the engine, errors with pointers); omit them to create "
        "an empty draft and fill it by import",
    )
    cbam = CbamDataField(required=False, allow_null=True, help_text=CBAM_HELP)


class ReportUpdate(ReportUpdateInput):
    """The body of a draft update: the methodology, and the activity lines that replace the draft's."""

    lines = ActivityLinesField(
        required=False, help_text="the lines replacing the draft's (omit to keep them)"
    )
    cbam = CbamDataField(
        required=False, allow_null=True, help_text=CBAM_HELP + "; omit to keep the draft's, null removes it"
    )


class RevisionOutput(serializers.ModelSerializer):
    """One revision of a report: its status and its stored figures (``totals`` and ``intensity`` as in
    the report itself)."""

    revision = serializers.IntegerField(source="number")
    line_count = serializers.IntegerField(read_only=True)
    totals = TotalsOutput(source="totals.totals", allow_null=True)
    intensity = IntensityOutput(source="totals.intensity", allow_null=True)

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
            "intensity",
            "created_at",
            "submitted_at",
            "status_changed_at",
        ]


class DepositReviewOutput(serializers.Serializer):
    """The competent authority's review of a monthly deposit (POST /api/v1/reports/{id}/accept/ or
    /return/): ``pending`` until it decides; ``verifier`` when a verification body's opinion settled it."""

    status = serializers.ChoiceField(choices=REVIEW_STATES)
    comment = serializers.CharField(allow_blank=True)
    by = serializers.CharField(allow_null=True, help_text="the reviewing regulator's user name")
    at = serializers.DateTimeField(allow_null=True)


class ReportSummaryOutput(serializers.Serializer):
    """A report as listed: the shown revision's status and figures, without lines."""

    id = serializers.IntegerField()
    facility = serializers.IntegerField()
    sector = serializers.ChoiceField(choices=Facility.Sector.choices)
    year = serializers.IntegerField()
    month = serializers.IntegerField(allow_null=True)
    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    revision = serializers.IntegerField(help_text="the shown revision's number")
    status = serializers.ChoiceField(choices=ReportRevision.Status.choices, help_text="the shown revision's")
    digest = serializers.CharField(allow_null=True, help_text="SHA-256 of the submitted content")
    totals = TotalsOutput(allow_null=True)
    intensity = IntensityOutput(allow_null=True)
    units = serializers.DictField(
        child=UnitFiguresOutput(), help_text="the shown revision's figures per production unit (`unit`)"
    )
    line_count = serializers.IntegerField()
    verification_job = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(
        allow_null=True, help_text="monthly reports: the month's end + the methodology's deposit_due_days"
    )
    late = serializers.BooleanField(
        allow_null=True, help_text="monthly reports: deposited after due_date, or overdue"
    )
    deposit_status = serializers.ChoiceField(
        choices=["on_time", "late", "pending", "overdue"], allow_null=True, help_text="monthly reports"
    )
    deposited_at = serializers.DateTimeField(allow_null=True, help_text="the first submission (revision 1)")
    due_days = serializers.IntegerField(allow_null=True)
    due_days_source = serializers.CharField(
        allow_null=True,
        help_text="the methodology version giving due_days, or 'default' (40) when it has none",
    )
    review = DepositReviewOutput(
        allow_null=True,
        help_text="monthly reports once deposited: the competent authority's review (null otherwise)",
    )


class CertificationOutput(serializers.Serializer):
    """The submitter's sign-off of the revision (covered by its digest)."""

    statement = serializers.CharField()
    name = serializers.CharField(help_text="the submitter's name")
    username = serializers.CharField()
    organisation = serializers.IntegerField(help_text="the organisation they submitted for")
    capability = serializers.CharField()
    at = serializers.DateTimeField()


class ReportDetailOutput(ReportSummaryOutput):
    """A report with the shown revision's lines (as given) and each line's result."""

    certification = CertificationOutput(
        allow_null=True, help_text="null: a draft, or submitted before sign-off"
    )
    lines = ActivityLinesField()
    results = LineResultsField()
    cbam = CbamDataField(allow_null=True, help_text="the revision's CBAM process data (null: none)")


def paginated(name: str, child: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The page serializer of ``child`` rows: ``{count, next, previous, results}``."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {child.__name__.removesuffix('Output')} rows.",
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": child(many=True),
        },
    )


ReportPage = paginated("ReportPage", ReportSummaryOutput)
RevisionPage = paginated("RevisionPage", RevisionOutput)


class CheckFindingOutput(serializers.Serializer):
    """A finding of the automated checks run on a draft: shown, not stored (it needs no answer)."""

    code = serializers.CharField(help_text="e.g. missing_production, incomplete_sector, unit_slip_mass")
    severity = serializers.ChoiceField(
        choices=Finding.Severity.choices, help_text="error: the report could not be verified as it is"
    )
    detail = serializers.CharField()
    pointer = serializers.CharField(allow_blank=True, help_text="JSON pointer into the draft's lines")
    line_ref = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True, help_text="the value the finding is about")
    expected = serializers.CharField(allow_blank=True, help_text="what the check expected instead")


_DRAFT_FINDINGS_HELP = "dry runs: the draft checks on the lines the import would leave in the draft"


class ImportSummaryOutput(serializers.Serializer):
    """A line file imported (or checked, with ``dry_run``)."""

    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField(help_text="rows read from the file")
    lines = serializers.IntegerField(help_text="lines of the draft after the import")
    totals = TotalsOutput()
    findings = CheckFindingOutput(many=True, required=False, help_text=_DRAFT_FINDINGS_HELP)


class CellErrorOutput(serializers.Serializer):
    pointer = serializers.CharField(help_text="/rows/<i>/<field> into the file's rows")
    row = serializers.IntegerField(allow_null=True, required=False, help_text="row of the file (header is 1)")
    column = serializers.CharField(required=False)
    code = serializers.CharField()
    detail = serializers.CharField()


class ImportOutcomeOutput(serializers.Serializer):
    """The summary of a completed import, or the problem of a failed one (code, detail, errors)."""

    dry_run = serializers.BooleanField(required=False)
    rows = serializers.IntegerField(required=False)
    lines = serializers.IntegerField(required=False)
    totals = TotalsOutput(required=False)
    findings = CheckFindingOutput(many=True, required=False, help_text=_DRAFT_FINDINGS_HELP)
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    errors = CellErrorOutput(many=True, required=False)


class ImportJobOutput(serializers.Serializer):
    """A background import: status, progress, and the summary or the bad cells."""

    id = serializers.IntegerField()
    report = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    progress = serializers.IntegerField(help_text="percent")
    file_format = serializers.ChoiceField(choices=linefiles.FORMATS)
    dry_run = serializers.BooleanField()
    append = serializers.BooleanField()
    outcome = ImportOutcomeOutput(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class FindingOutput(serializers.Serializer):
    """A point raised about a revision, by the automated checks or by the verifier."""

    id = serializers.IntegerField()
    source = serializers.ChoiceField(choices=Finding.Source.choices)
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    detail = serializers.CharField()
    pointer = serializers.CharField(allow_blank=True, help_text="JSON pointer into the revision's lines")
    line_ref = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True, help_text="the value the finding is about")
    expected = serializers.CharField(allow_null=True, help_text="what the check expected instead")
    misstatement_co2e = DecimalString(
        places=TONNE_PLACES, allow_null=True, help_text="tonnes CO2e misstated, if any"
    )
    acknowledged = serializers.BooleanField()
    acknowledgement_note = serializers.CharField(allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    awaiting_answer = serializers.BooleanField(help_text="an automated warning not yet answered")
    created_at = serializers.DateTimeField()


class MaterialityOutput(serializers.Serializer):
    """The verifier's misstatements against the reported total (EU AVR Art. 23)."""

    reported_total_co2e = DecimalString()
    threshold_percent = DecimalString()
    misstatement_co2e = DecimalString()
    percent = DecimalString()
    material = serializers.BooleanField()


class RecalculationOutput(serializers.Serializer):
    """The revision recalculated: under its own version (verification) or another (recalculation job)."""

    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    stored_methodology = serializers.CharField()
    stored_methodology_version = serializers.CharField()
    total = DecimalString()
    stored_total = DecimalString()
    difference = DecimalString(help_text="total − stored_total")


FindingCountsOutput = type(
    "FindingCountsOutput",
    (serializers.Serializer,),
    {
        "__doc__": "Findings by severity, not counting acknowledged ones.",
        **{severity: serializers.IntegerField() for severity in Finding.Severity.values},
    },
)


DraftFindingCountsOutput = type(
    "DraftFindingCountsOutput",
    (serializers.Serializer,),
    {
        "__doc__": "Findings of the draft checks by severity.",
        **{severity: serializers.IntegerField() for severity in Finding.Severity.values},
    },
)


class DraftChecksOutput(serializers.Serializer):
    """The automated checks that need no other report, run on a draft before it is submitted (nothing
    is stored; the verification job runs them again, with the year on year and peer comparisons)."""

    report = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="the draft revision's number")
    methodology = serializers.CharField()
    methodology_version = serializers.CharField()
    check_version = serializers.CharField(help_text="the set of checks run")
    lines = serializers.IntegerField(help_text="activity lines of the draft")
    counts = DraftFindingCountsOutput()
    findings = CheckFindingOutput(many=True)


class VerificationJobOutput(serializers.Serializer):
    """A verification (or recalculation) job of one submitted revision."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=VerificationJob.Kind.choices)
    report = serializers.IntegerField()
    revision = serializers.IntegerField()
    facility = serializers.IntegerField()
    sector = serializers.ChoiceField(choices=Facility.Sector.choices)
    year = serializers.IntegerField()
    month = serializers.IntegerField(allow_null=True, help_text="the report's month (null: an annual report)")
    digest = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(
        choices=JOB_STATUSES_SHOWN,
        help_text="awaiting_operator: in review, with a request for information awaiting the operator",
    )
    progress = serializers.IntegerField(help_text="percent of the automated checks done")
    attempts = serializers.IntegerField()
    failure_reason = serializers.CharField(allow_null=True)
    check_version = serializers.CharField()
    target_methodology = serializers.CharField(allow_null=True, help_text="recalculation jobs")
    claimed_by = serializers.CharField(allow_null=True, help_text="the verifier's user name")
    claimed_at = serializers.DateTimeField(allow_null=True)
    opinion = serializers.ChoiceField(choices=VerificationJob.Opinion.choices, allow_null=True)
    statement = serializers.CharField(allow_null=True)
    materiality = MaterialityOutput()
    recalculation = RecalculationOutput(allow_null=True)
    monitoring_plan = serializers.IntegerField(
        allow_null=True, help_text="the approved monitoring plan version the automated checks compared with"
    )
    enqueued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    finding_counts = FindingCountsOutput()
    findings = FindingOutput(many=True, required=False, help_text="on a single job, not in lists")


VerificationJobPage = paginated("VerificationJobPage", VerificationJobOutput)


# -- aggregates ------------------------------------------------------------------------------------------
GasTonnesOutput = _figures("GasTonnesOutput", GASES, "Tonnes of each gas (not CO2e).")


class AggregateFiguresOutput(serializers.Serializer):
    """Counts and tonnes CO2e of a group (exact sums, presented with 6 decimals)."""

    facilities = serializers.IntegerField(help_text="distinct facilities")
    reports = serializers.IntegerField()
    direct = DecimalString()
    indirect = DecimalString()
    total = DecimalString()
    gases = GasTonnesOutput()


class AggregateRowOutput(AggregateFiguresOutput):
    """One group: its keys (those of ``group_by``), then its figures."""

    sector = serializers.ChoiceField(choices=Facility.Sector.choices, required=False)
    province = serializers.ChoiceField(choices=PROVINCES, required=False)
    year = serializers.IntegerField(required=False)
    month = serializers.IntegerField(required=False, allow_null=True)
    facility = serializers.IntegerField(required=False)
    facility_name = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False)
    gas = serializers.ChoiceField(choices=GASES, required=False)

    def to_representation(self, instance: Any) -> Any:
        row = super().to_representation(instance)
        # The keys first, as the selector orders them.
        return {key: row[key] for key in instance if key in row}


class AggregateFiltersOutput(serializers.Serializer):
    """The filters applied."""

    period = serializers.ChoiceField(choices=["annual", "monthly"])
    year = serializers.ListField(child=serializers.IntegerField(), required=False)
    sector = serializers.ListField(
        child=serializers.ChoiceField(choices=Facility.Sector.choices), required=False
    )
    province = serializers.ListField(child=serializers.ChoiceField(choices=PROVINCES), required=False)


class AggregatesOutput(serializers.Serializer):
    """Verified totals grouped as asked, and the totals over everything selected."""

    group_by = serializers.ListField(child=serializers.ChoiceField(choices=GROUPS))
    filters = AggregateFiltersOutput()
    results = AggregateRowOutput(many=True)
    totals = AggregateFiguresOutput()


class SectorBandOutput(serializers.Serializer):
    p5 = DecimalString()
    p95 = DecimalString()


class ComparisonRowOutput(serializers.Serializer):
    facility = serializers.IntegerField()
    facility_name = serializers.CharField()
    sector = serializers.ChoiceField(choices=Facility.Sector.choices)
    province = serializers.ChoiceField(choices=PROVINCES)
    direct_intensity = DecimalString(help_text="t CO2e per t of product, latest verified annual report")
    percentile = DecimalString(help_text="share of the sector's facilities at or below (0-100)")
    peers = serializers.IntegerField()
    sector_band = SectorBandOutput(allow_null=True, help_text="5th-95th percentile of the sector")


class ComparisonOutput(serializers.Serializer):
    year = serializers.IntegerField()
    results = ComparisonRowOutput(many=True)


class LineTemplateOutput(serializers.Serializer):
    """A sector's line template as a table (JSON form of the CSV/XLSX file)."""

    columns = serializers.ListField(child=serializers.CharField(), help_text="the importer's columns")
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
        help_text="example rows: column → cell text",
    )
    filename = serializers.CharField()
