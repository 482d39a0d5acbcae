"""Organisations and the people who act for them.

An organisation is one of the three parties of an emissions trading system: a facility operator,
a verification body or the competent authority. Every API user belongs to exactly one organisation,
with the role that matches its kind; what a user may see and do follows from that membership.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from accounting.engine import SECTORS
from mrv.domain import workflow
from mrv.domain.provinces import CHOICES as PROVINCE_CHOICES
from mrv.validators import USCC_LENGTH, validate_credit_code


# -- the vocabularies, defined once: models, check constraints, filters and serializers use these --------
class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", "Operator"
    VERIFICATION_BODY = "verification_body", "Verification body"
    AUTHORITY = "authority", "Competent authority"


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    VERIFIER = "verifier", "Verifier"
    REGULATOR = "regulator", "Regulator"


#: The display name of each sector of ``accounting.engine.SECTORS`` (the engine's vocabulary).
SECTOR_LABELS = {
    "cement": "Cement (clinker)",
    "steel": "Iron and steel",
    "aluminium": "Electrolytic aluminium",
}
Sector = models.TextChoices("Sector", [(code.upper(), (code, SECTOR_LABELS[code])) for code in SECTORS])


class Organisation(models.Model):
    Kind = OrganisationKind

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    credit_code = models.CharField(
        "unified social credit code",
        max_length=USCC_LENGTH,
        unique=True,
        validators=[validate_credit_code],
        help_text="18-character Unified Social Credit Code (GB 32100-2015), with its check character.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values),
                name="organisation_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in one organisation and the role it gives them."""

    Role = Role

    #: The organisation kind each role belongs to.
    KIND_FOR_ROLE = {
        Role.OPERATOR: Organisation.Kind.OPERATOR,
        Role.VERIFIER: Organisation.Kind.VERIFICATION_BODY,
        Role.REGULATOR: Organisation.Kind.AUTHORITY,
    }

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.organisation})"


class ApiToken(AbstractAuthToken):
    """An API token, kept only as its SHA-512 digest (django-rest-knox); the plain token is shown once.

    ``token_key`` is the token's first characters (not enough to use it), which the owner sees to tell
    tokens apart; ``expiry`` is always set (``MRV_TOKEN_TTL_DAYS``).
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=100, blank=True, help_text="what the owner uses the token for")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.token_key}… ({self.user})"


class Facility(models.Model):
    """An installation covered by the ETS, run by an operator and verified by a verification body."""

    Sector = Sector

    name = models.CharField(max_length=200)
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="facilities",
        limit_choices_to={"kind": "operator"},
    )
    sector = models.CharField(max_length=16, choices=Sector.choices)
    province = models.CharField(max_length=5, choices=PROVINCE_CHOICES, help_text="ISO 3166-2:CN code")
    verification_body = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="verified_facilities",
        null=True,
        blank=True,
        limit_choices_to={"kind": "verification_body"},
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "name"], name="facility_name_unique_per_operator"),
            models.CheckConstraint(
                condition=models.Q(sector__in=Sector.values), name="facility_sector_valid"
            ),
        ]
        indexes = [models.Index(fields=["sector", "province"])]

    def __str__(self) -> str:
        return self.name


class Report(models.Model):
    """An emissions report of one facility for one period (a year, or a month of it).

    ``sector`` and ``province`` are the facility's when the report was created (kept with the report,
    so that moving or reclassifying a facility rewrites neither its reports nor the rollup).
    ``revision`` and ``status`` mirror the latest revision (kept in step by the services in the same
    transaction) so that lists filter and sort without a subquery.
    """

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="reports")
    #: The facility's sector and province when the report was created: the report is filed, calculated
    #: and aggregated under these, whatever the facility becomes later (frozen once submitted).
    sector = models.CharField(max_length=16, choices=Sector.choices)
    province = models.CharField(max_length=5, choices=PROVINCE_CHOICES, help_text="ISO 3166-2:CN code")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, default="draft", db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "facility_id", "month", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "year"],
                condition=models.Q(month__isnull=True),
                name="report_annual_unique",
            ),
            models.UniqueConstraint(
                fields=["facility", "year", "month"],
                condition=models.Q(month__isnull=False),
                name="report_monthly_unique",
            ),
            models.CheckConstraint(condition=models.Q(sector__in=Sector.values), name="report_sector_valid"),
            models.CheckConstraint(
                condition=models.Q(year__gte=1990, year__lte=2100), name="report_year_range"
            ),
            models.CheckConstraint(
                condition=models.Q(month__isnull=True) | models.Q(month__gte=1, month__lte=12),
                name="report_month_range",
            ),
        ]

    def __str__(self) -> str:
        period = f"{self.year}-{self.month:02d}" if self.month else str(self.year)
        return f"{self.facility} {period}"


class ReportRevision(models.Model):
    """One revision of a report. Once submitted, its content is frozen (PostgreSQL trigger)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        CHECKS_RUNNING = "checks_running", "Checks running"
        IN_VERIFICATION = "in_verification", "In verification"
        VERIFIED = "verified", "Verified"
        RETURNED = "returned", "Returned"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    methodology = models.CharField(max_length=32)
    methodology_version = models.CharField(max_length=32)
    totals = models.JSONField(help_text="totals and intensity of the calculation, exact decimals as text")
    line_count = models.PositiveIntegerField(default=0)
    digest = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the canonical JSON of the inputs"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="revision_number_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=list(workflow.STATUSES)), name="revision_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.report} r{self.number} ({self.status})"


class ActivityLine(models.Model):
    """One activity line of a revision: its inputs as given and its calculated figures (exact).

    The full per-line result (every parameter with its origin and provenance) is the engine's output
    for these inputs under the revision's methodology version, which never changes; the API presents
    it by recalculating, and the verification job checks that the recalculation equals these figures.
    """

    revision = models.ForeignKey(ReportRevision, on_delete=models.CASCADE, related_name="activity_lines")
    index = models.PositiveIntegerField()
    ref = models.CharField(max_length=64)
    source = models.CharField(max_length=32)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    category = models.CharField(max_length=24, blank=True, help_text="empty for production lines")
    co2e = models.DecimalField(max_digits=32, decimal_places=12)
    co2 = models.DecimalField(max_digits=32, decimal_places=12)
    cf4 = models.DecimalField(max_digits=32, decimal_places=12)
    c2f6 = models.DecimalField(max_digits=32, decimal_places=12)
    biogenic_co2 = models.DecimalField(max_digits=32, decimal_places=12)
    uses_defaults = models.BooleanField(
        default=False, help_text="a methodology default replaced a measured value"
    )
    inputs = models.JSONField(help_text="the line exactly as given (numbers as text)")

    class Meta:
        ordering = ["revision_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "index"], name="activity_line_index_unique")
        ]

    def __str__(self) -> str:
        return f"{self.revision} line {self.index} ({self.ref})"


class IdempotencyRecord(models.Model):
    """The answer given to a request made with an ``Idempotency-Key``, replayed for the same key and body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class AuditEvent(models.Model):
    """One entry of the append-only history of writes and state changes, chained by keyed hash to the
    event before it in its chain (one chain per facility, per organisation, and ``system``:
    mrv/services/audit.py)."""

    chain = models.CharField(
        max_length=40, help_text="the hash chain of the event: facility:<id>, organisation:<id> or system"
    )
    sequence = models.PositiveBigIntegerField(help_text="the event's place in its chain, from 1")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        help_text="the organisation whose object this event concerns (scopes who may read it)",
    )
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        help_text="the facility concerned, if any",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    before_digest = models.CharField(max_length=64, blank=True)
    after_digest = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 under MRV_AUDIT_KEY")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "sequence"], name="audit_event_chain_sequence_unique")
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["organisation", "id"]),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.sequence} {self.action} {self.object_type} {self.object_id}"


class AuditChainHead(models.Model):
    """The last event of one audit chain: locked FOR UPDATE by each append to that chain only."""

    chain = models.CharField(max_length=40, unique=True)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain {self.chain} at #{self.sequence}"


class AuditCheckpoint(models.Model):
    """A signed statement of every audit chain's head at one moment (like a Certificate Transparency
    signed tree head), also written outside the database: a later chain must still contain each head."""

    number = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    heads = models.JSONField(help_text="[[chain, sequence, hash], ...] sorted by chain")
    previous_signature = models.CharField(max_length=64, help_text="the signature of checkpoint number - 1")
    signature = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 under the checkpoint key")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"audit checkpoint {self.number} at {self.at:%Y-%m-%d %H:%M:%S}"


class VerificationJob(models.Model):
    """Verification of one submitted revision: automated checks (a Celery task), then a verifier's review.

    ``key`` is unique per revision, job kind and check version: enqueueing or running the same job
    twice finds the same row, so the checks run once in effect, whatever the broker delivers.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Automated checks running"
        AWAITING_REVIEW = "awaiting_review", "Awaiting review"
        IN_REVIEW = "in_review", "In review"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        VERIFICATION = "verification", "Verification"
        RECALCULATION = "recalculation", "Recalculation under another methodology"

    class Opinion(models.TextChoices):
        VERIFIED = "verified", "Verified"
        VERIFIED_WITH_COMMENTS = "verified_with_comments", "Verified with comments"
        NOT_VERIFIED = "not_verified", "Not verified"

    revision = models.ForeignKey(ReportRevision, on_delete=models.PROTECT, related_name="verification_jobs")
    verification_body = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "verification_body"},
        help_text="the body that verifies (or verified) this job: the facility's when the job was created; "
        "open jobs move with the facility, completed ones stay with the body that gave the opinion",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VERIFICATION)
    check_version = models.CharField(max_length=32)
    target_methodology = models.CharField(max_length=32, blank=True, help_text="for recalculation jobs")
    target_methodology_version = models.CharField(
        max_length=32, blank=True, help_text="for recalculation jobs: the version recalculated under"
    )
    key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent of the automated checks done")
    attempts = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    recalculation = models.JSONField(null=True, blank=True)
    monitoring_plan = models.ForeignKey(
        "MonitoringPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="the approved monitoring plan version in force for the report's period, checked against",
    )
    enqueued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    opinion = models.CharField(max_length=24, choices=Opinion.choices, blank=True)
    statement = models.TextField(blank=True)
    materiality = models.JSONField(null=True, blank=True, help_text="figures at the time of the opinion")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enqueued_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class Finding(models.Model):
    """A point raised about a revision: by the automated checks or by the verifier."""

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    class Source(models.TextChoices):
        AUTOMATED = "automated", "Automated check"
        VERIFIER = "verifier", "Verifier"

    job = models.ForeignKey(VerificationJob, on_delete=models.CASCADE, related_name="findings")
    source = models.CharField(max_length=16, choices=Source.choices)
    code = models.CharField(max_length=64)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    detail = models.TextField()
    pointer = models.CharField(max_length=200, blank=True)
    line_ref = models.CharField(max_length=64, blank=True)
    value = models.CharField(max_length=100, blank=True)
    expected = models.CharField(max_length=100, blank=True)
    misstatement_co2e = models.DecimalField(max_digits=32, decimal_places=12, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    #: The verifier's answer to an automated warning: acknowledged with a note, and (when
    #: ``misstatement_co2e`` is set) turned into a misstatement that counts towards materiality.
    acknowledged = models.BooleanField(default=False)
    acknowledgement_note = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "code", "pointer"],
                condition=models.Q(source="automated"),
                name="automated_finding_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.severity} {self.code} {self.pointer}"


class RollupFigures(models.Model):
    """Exact figures of a report's latest verified revision (tonnes; CO2e with its methodology's GWP)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(ReportRevision, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=16)
    province = models.CharField(max_length=5)
    year = models.PositiveSmallIntegerField()
    annual = models.BooleanField(help_text="an annual report (true) or a monthly one (false)")
    combustion = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    process = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    indirect_electricity = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    indirect_heat = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    co2 = models.DecimalField(
        max_digits=32, decimal_places=12, default=0, help_text="tonnes of CO2 (all categories)"
    )
    cf4 = models.DecimalField(max_digits=32, decimal_places=12, default=0, help_text="tonnes of CF4")
    c2f6 = models.DecimalField(max_digits=32, decimal_places=12, default=0, help_text="tonnes of C2F6")
    co2e_cf4 = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    co2e_c2f6 = models.DecimalField(max_digits=32, decimal_places=12, default=0)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class EmissionRollup(RollupFigures):
    """One row per report: totals of its latest verified revision.

    Replaced in the transaction that verifies a revision, so national aggregates read these rows
    (thousands) and never the activity lines (millions); ``manage.py rebuild_rollup`` recomputes them
    from scratch and proves they equal the incremental state.
    """

    month = models.PositiveSmallIntegerField(null=True, help_text="the report's month (null: annual report)")

    class Meta:
        indexes = [
            models.Index(fields=["sector", "province", "year"]),
            models.Index(fields=["year", "sector"]),
        ]
        constraints = [models.UniqueConstraint(fields=["report"], name="rollup_one_row_per_report")]

    def __str__(self) -> str:
        return f"rollup of report {self.report_id} r{self.revision_id}"


class EmissionRollupMonthly(RollupFigures):
    """The same figures per month (the line's month, else the report's): used when aggregating by month."""

    month = models.PositiveSmallIntegerField(
        null=True, help_text="null: lines without a month in an annual report"
    )

    class Meta:
        indexes = [models.Index(fields=["year", "month"]), models.Index(fields=["report"])]

    def __str__(self) -> str:
        return f"monthly rollup of report {self.report_id} month {self.month}"


class ImportJob(models.Model):
    """A line file imported in the background (``?background=true``), with its progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_format = models.CharField(max_length=8)
    content = models.BinaryField(help_text="the uploaded file (at most MRV_MAX_BODY_BYTES)")
    dry_run = models.BooleanField(default=False)
    append = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    outcome = models.JSONField(
        null=True, blank=True, help_text="the summary, or the problem with its cell errors"
    )
    attempts = models.PositiveIntegerField(default=0, help_text="runs started (deliveries and sweeps)")
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(default=timezone.now, help_text="last published to the import queue")
    started_at = models.DateTimeField(null=True, blank=True, help_text="the last run's start")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"import {self.pk} of report {self.report_id} ({self.status})"


class MonitoringPlan(models.Model):
    """One version of a facility's monitoring plan (China: 数据质量控制计划; EU MRR: monitoring plan).

    Drafted by the operator, submitted, then approved or returned by the regulator. Its content is
    frozen once submitted and the whole row once approved (PostgreSQL trigger, migration 0015); a change
    is a new version, in force from its ``valid_from``. ``sources``: ``[{ref, source, description,
    parameters: {NAME: {determination, method, instrument, frequency, uncertainty_percent, tier,
    missing_data_rule}}}]`` (validated by ``mrv.domain.plans``).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="monitoring_plans")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    valid_from = models.DateField()
    methodology = models.CharField(max_length=32)
    sources = models.JSONField(default=list)
    quality_assurance = models.TextField(blank=True)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the canonical content")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="the regulator's comment on approval or return")

    class Meta:
        ordering = ["facility_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "version"], name="monitoring_plan_version_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "submitted", "approved", "returned"]),
                name="monitoring_plan_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["facility", "status", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.facility} monitoring plan v{self.version} ({self.status})"


# -- allocation and compliance (SPEC §11) -------------------------------------------------------------
class AllocationPlan(models.Model):
    """A compliance year's allocation rules, entered by the regulator: draft, then published and immutable
    (PostgreSQL/SQLite triggers, migration 0022). ``rules``: ``{PRODUCT: {method, benchmark?: {value,
    unit}, factors?: {NAME: value}}}`` with exact decimals as text (validated by
    ``mrv.domain.allocation``). ``illustrative``: the values are examples (demo data), not an
    authority's published figures."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    code = models.CharField(max_length=64, unique=True)
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    rules = models.JSONField()
    preallocation_share = models.DecimalField(max_digits=7, decimal_places=6)
    offset_limit_share = models.DecimalField(max_digits=7, decimal_places=6)
    surrender_due = models.DateField()
    illustrative = models.BooleanField(default=False)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the canonical content")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="allocation_plan_status_valid"
            ),
            models.UniqueConstraint(
                fields=["year"],
                condition=models.Q(status="published"),
                name="allocation_plan_one_published_per_year",
            ),
            models.CheckConstraint(
                condition=models.Q(preallocation_share__gte=0, preallocation_share__lte=1)
                & models.Q(offset_limit_share__gte=0, offset_limit_share__lte=1),
                name="allocation_plan_shares_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"allocation plan {self.code} ({self.year}, {self.status})"


class AllocationRun(models.Model):
    """One pre-allocation or finalisation of a plan over the facilities in its requester's scope: a
    Celery job, fanned out in batches of facilities."""

    class Kind(models.TextChoices):
        PREALLOCATE = "preallocate", "Pre-allocation"
        FINALISE = "finalise", "Final allocation"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey(AllocationPlan, on_delete=models.PROTECT, related_name="runs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    facilities = models.PositiveIntegerField(default=0, help_text="facilities in the requester's scope")
    ranges = models.JSONField(default=list, help_text="[[first id, last id], ...]: the batches of facilities")
    done = models.JSONField(default=list, help_text="indices of the batches done")
    changed = models.PositiveIntegerField(default=0, help_text="allocation rows created or changed")
    failure_reason = models.TextField(blank=True)
    enqueued_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enqueued_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} run {self.pk} of {self.plan_id} ({self.status})"


class Allocation(models.Model):
    """Allowances of one facility's production unit under a plan: pre-allocated and final (whole
    allowances); ``unit`` is empty for a facility whose verified report names no unit making the product."""

    plan = models.ForeignKey(AllocationPlan, on_delete=models.PROTECT, related_name="allocations")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="allocations")
    unit = models.CharField(max_length=32, blank=True)
    product = models.CharField(max_length=32)
    method = models.CharField(max_length=24)
    preallocated = models.DecimalField(max_digits=20, decimal_places=0, null=True, blank=True)
    preallocation_basis = models.JSONField(null=True, blank=True)
    final = models.DecimalField(max_digits=20, decimal_places=0, null=True, blank=True)
    final_basis = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan_id", "facility_id", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "facility", "unit"], name="allocation_unique_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.facility_id}/{self.unit or '-'}"


class Surrender(models.Model):
    """Allowances and offsets (CCER) surrendered for a facility's compliance year."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="surrenders")
    year = models.PositiveSmallIntegerField()
    plan = models.ForeignKey(AllocationPlan, on_delete=models.PROTECT, related_name="surrenders")
    allowances = models.DecimalField(max_digits=20, decimal_places=0)
    offsets = models.DecimalField(max_digits=20, decimal_places=0)
    late = models.BooleanField(default=False, help_text="recorded after the plan's surrender_due")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["facility_id", "year", "recorded_at", "id"]
        indexes = [models.Index(fields=["facility", "year"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allowances__gte=0, offsets__gte=0), name="surrender_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"surrender {self.pk} for {self.facility_id}/{self.year}"


class ComplianceStatus(models.Model):
    """A facility's compliance status for a year as last recorded (each change is audited); the API
    computes the status afresh on every read."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "year"], name="compliance_status_unique")]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.year}: {self.status}"
