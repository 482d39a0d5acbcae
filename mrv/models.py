"""Organisations and the people who act for them.

An organisation is one of the three parties of an emissions trading system: a facility operator,
a verification body or the competent authority; a consultant prepares reports for operators that
grant it named facilities. A user holds one or more memberships (organisation, role, optional
facilities, capability, validity) and each request acts for one of them (``mrv.selectors.scoping``);
what a user may see and do follows from that membership. An authority has a jurisdiction: national
(no provinces) or the provinces it lists.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from accounting.engine import SECTORS
from mrv.domain import workflow
from mrv.domain.evidence import KINDS as EVIDENCE_KINDS
from mrv.domain.provinces import CHOICES as PROVINCE_CHOICES
from mrv.validators import USCC_LENGTH, validate_credit_code


# -- the vocabularies, defined once: models, check constraints, filters and serializers use these --------
class OrganisationKind(models.TextChoices):
    OPERATOR = "operator", "Operator"
    VERIFICATION_BODY = "verification_body", "Verification body"
    AUTHORITY = "authority", "Competent authority"
    CONSULTANT = "consultant", "Consultant"


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    VERIFIER = "verifier", "Verifier"
    REGULATOR = "regulator", "Regulator"


class Capability(models.TextChoices):
    """What an operator-side membership may do: a preparer edits drafts, imports and uploads evidence; a
    submitter also submits (certifying the report) and answers requests."""

    PREPARER = "preparer", "Preparer"
    SUBMITTER = "submitter", "Submitter"


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
    provinces = models.JSONField(
        default=list,
        blank=True,
        help_text="an authority's jurisdiction: ISO 3166-2:CN codes of its provinces; empty: national",
    )
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
    """A user's place in one organisation and the role it gives them (a user may hold several).

    ``facilities`` (operator side) narrows the organisation's facilities to those listed (none: all of
    them; for a consultant: all the facilities granted to its organisation). ``capability`` (operator
    side): a ``preparer`` edits drafts, a ``submitter`` also submits. Outside ``valid_from`` /
    ``valid_until`` the membership acts for nobody.
    """

    Role = Role
    Capability = Capability

    #: The organisation kinds each role belongs to (the first: the kind an organisation is created with).
    KINDS_FOR_ROLE = {
        Role.OPERATOR: (OrganisationKind.OPERATOR, OrganisationKind.CONSULTANT),
        Role.VERIFIER: (OrganisationKind.VERIFICATION_BODY,),
        Role.REGULATOR: (OrganisationKind.AUTHORITY,),
    }
    KIND_FOR_ROLE = {role: kinds[0] for role, kinds in KINDS_FOR_ROLE.items()}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    capability = models.CharField(
        max_length=16,
        choices=Capability.choices,
        blank=True,
        help_text="operator side: preparer (drafts) or submitter (also submits); empty for other roles",
    )
    facilities = models.ManyToManyField(
        "Facility",
        blank=True,
        related_name="+",
        help_text="only these facilities of the organisation (none: all of them, or all granted)",
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values),
                name="membership_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(capability="") | models.Q(capability__in=Capability.values),
                name="membership_capability_valid",
            ),
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_one_per_organisation"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.organisation})"

    def valid_at(self, moment: Any) -> bool:
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_until is None or moment < self.valid_until
        )


class ApiToken(AbstractAuthToken):
    """An API token, kept only as its SHA-512 digest (django-rest-knox); the plain token is shown once.

    ``token_key`` is the token's first characters (not enough to use it), which the owner sees to tell
    tokens apart; ``expiry`` is always set (``MRV_TOKEN_TTL_DAYS``).
    """

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    name = models.CharField(max_length=100, blank=True, help_text="what the owner uses the token for")
    last_used_at = models.DateTimeField(null=True, blank=True)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tokens",
        help_text="the membership the token acts for (null: the user's only one, or the MRV-Membership header)",
    )

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
    cbam = models.JSONField(
        null=True,
        blank=True,
        help_text="CBAM process data of an annual report (installation, processes, goods, precursors), "
        "validated by accounting.cbam; frozen with the revision",
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


#: A job's status as the API shows it: its stored status, and ``awaiting_operator`` for a job in review
#: with a request for information awaiting the operator's answer (derived from the requests, not stored).
AWAITING_OPERATOR = "awaiting_operator"
JOB_STATUSES_SHOWN = [*VerificationJob.Status.choices, (AWAITING_OPERATOR, "Awaiting the operator's answer")]


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


class Evidence(models.Model):
    """A file supporting a report revision's figures (a lab report, a weighbridge ledger, an invoice...).

    Uploaded onto a draft revision; the file is kept in the ``evidence`` storage under a generated name
    (``storage_name``, never the client's), with its SHA-256 and size computed while it was received, and
    its content type judged from its bytes (``mrv.domain.evidence``). The submit digest covers the
    evidence's hashes; once the revision is submitted its evidence can be neither added, changed nor
    removed (database triggers, migration 0016). A revision opened by ``revise`` starts with the evidence
    of the revision it corrects (rows of its own naming the same stored files).

    A file uploaded for a request for information (``request`` set) is supplementary evidence: attached
    to the revision under verification but not one of its own files (neither in its digest, nor listed
    with it, nor carried over by ``revise``); it is inserted only while its request is open or answered,
    never changed, and never removed once an answer names it (triggers of migration 0023).
    """

    class Kind(models.TextChoices):
        LAB_REPORT = "lab_report", "Laboratory report"
        WEIGHBRIDGE_LEDGER = "weighbridge_ledger", "Weighbridge ledger"
        INVOICE = "invoice", "Invoice"
        METER_READING = "meter_reading", "Meter reading"
        CALIBRATION_CERTIFICATE = "calibration_certificate", "Calibration certificate"
        PHOTO = "photo", "Photo"
        OTHER = "other", "Other"

    revision = models.ForeignKey(ReportRevision, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    line_ref = models.CharField(max_length=64, blank=True, help_text="the activity line it supports, if any")
    parameter = models.CharField(max_length=64, blank=True, help_text="the line's parameter it supports")
    description = models.CharField(max_length=1000, blank=True)
    filename = models.CharField(
        max_length=255, help_text="the client's file name (shown, never used to store)"
    )
    storage_name = models.CharField(max_length=200, help_text="the generated name in the evidence storage")
    size = models.PositiveBigIntegerField(help_text="bytes")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the bytes received (hex)")
    content_type = models.CharField(max_length=100, help_text="judged from the bytes, not the name")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    request = models.ForeignKey(
        "InformationRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence",
        help_text="set on a file uploaded for a request for information (not part of the revision's digest)",
    )

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["revision_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=EVIDENCE_KINDS), name="evidence_kind_valid"),
        ]
        indexes = [models.Index(fields=["storage_name"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.kind}) of {self.revision}"


class DepositReview(models.Model):
    """The competent authority's review of a monthly deposit (a submitted revision of a monthly report),
    given instead of a verification body's opinion: ``accepted`` (the revision becomes ``verified``: its
    figures count in the aggregates and in the annual report's check against the monthly sum) or
    ``returned`` with a comment (the operator revises it). One per revision, written once: neither
    updated nor deleted, and only beside a monthly revision in the matching status (triggers of
    migration 0017)."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        RETURNED = "returned", "Returned"

    revision = models.OneToOneField(ReportRevision, on_delete=models.PROTECT, related_name="deposit_review")
    decision = models.CharField(max_length=12, choices=Decision.choices)
    comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["revision_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__in=["accepted", "returned"]),
                name="deposit_review_decision_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="accepted") | ~models.Q(comment=""),
                name="deposit_review_return_has_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"review of revision {self.revision_id}: {self.decision}"


class WebhookEvent(models.TextChoices):
    """The events an organisation may subscribe to (SPEC §10)."""

    REPORT_SUBMITTED = "report.submitted", "A report revision was submitted"
    REPORT_STATUS_CHANGED = "report.status_changed", "A report revision changed status"
    JOB_AWAITING_REVIEW = "verification_job.awaiting_review", "A verification job awaits a verifier"
    REQUEST_OPENED = "request.opened", "A request for information was opened"
    REQUEST_ANSWERED = "request.answered", "A request for information was answered"
    OPINION_ISSUED = "opinion.issued", "A verification opinion was issued"
    DEPOSIT_LATE = "deposit.late", "A monthly deposit was made after its due date"
    DEADLINE_APPROACHING = "deadline.approaching", "A deadline is near"


class WebhookSubscription(models.Model):
    """An organisation's webhook: the events it wants POSTed to ``url``, signed with its secret.

    The secret is stored encrypted (Fernet, under ``MRV_WEBHOOK_KEY``: mrv/services/webhooks.py) so that
    deliveries can be signed; the plain secret is shown once, in the answer to its creation. A deleted
    subscription keeps its row (and its delivery log) with ``deleted_at`` set and is never sent to again.
    """

    Event = WebhookEvent

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=2000)
    events = models.JSONField(help_text="the event types delivered, a list of WebhookEvent values")
    secret_encrypted = models.TextField(
        help_text="the signing secret, Fernet-encrypted under MRV_WEBHOOK_KEY"
    )
    secret_prefix = models.CharField(max_length=16, help_text="the secret's first characters, to tell apart")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "deleted_at"])]

    def __str__(self) -> str:
        return f"webhook {self.pk} of {self.organisation_id} to {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription (the transactional outbox): written in the transaction of the
    change it reports, sent by the ``mrv.deliver_webhook`` task once that transaction commits.

    ``body`` is the exact JSON sent (every try and a redelivery send the same bytes). ``attempts`` counts
    the tries made; the try numbered ``attempts + 1`` is the only one a task may make next (a task message
    delivered twice finds the number taken and does nothing). ``give_up_after``: the try after which a
    failing delivery ends ``failed``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    body = models.TextField(help_text="the JSON document POSTed: {id, type, created_at, data}")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    give_up_after = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="when the next try is due")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="when the next try's task message was published (None: not yet)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhook_delivery_event_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivered", "failed"]),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="delivered") | models.Q(delivered_at__isnull=False),
                name="webhook_delivery_delivered_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.event_type} ({self.status})"


class WebhookAttempt(models.Model):
    """One try of a delivery: when, the receiver's HTTP status (None when no answer), the error, how long."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique")
        ]

    def __str__(self) -> str:
        return f"try {self.number} of delivery {self.delivery_id}: {self.status_code or self.error}"


# -- the conversation: requests for information, notifications, deadline reminders (SPEC §10) --------------
class InformationRequest(models.Model):
    """A verifier's request for information on a claimed verification job, answered by the operator.

    ``open``: awaiting the operator's answer (the job shows ``awaiting_operator``); ``answered``: awaiting
    the verifier, who closes it (or the operator adds to the answer); ``closed``: settled, by the verifier.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open: awaiting the operator"
        ANSWERED = "answered", "Answered: awaiting the verifier"
        CLOSED = "closed", "Closed"

    job = models.ForeignKey(VerificationJob, on_delete=models.PROTECT, related_name="information_requests")
    question = models.TextField()
    line_ref = models.CharField(max_length=64, blank=True, help_text="the line of the revision asked about")
    finding = models.ForeignKey(
        Finding, on_delete=models.PROTECT, null=True, blank=True, related_name="information_requests"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="the latest answer")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "answered", "closed"]),
                name="information_request_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_at__isnull=False)
                | (~models.Q(status="closed") & models.Q(closed_at__isnull=True)),
                name="information_request_closed_when_closed_at",
            ),
        ]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"request {self.pk} on job {self.job_id} ({self.status})"


class RequestAnswer(models.Model):
    """One answer of the operator to a request for information (append-only: trigger of migration 0019)."""

    request = models.ForeignKey(InformationRequest, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField()
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(auto_now_add=True)

    evidence = models.ManyToManyField(
        Evidence, through="AnswerEvidence", related_name="answers", blank=True, help_text="files it names"
    )

    class Meta:
        ordering = ["answered_at", "id"]

    def __str__(self) -> str:
        return f"answer {self.pk} to request {self.request_id}"


class AnswerEvidence(models.Model):
    """An evidence file an answer names (append-only, like the answer; the file is then never removed)."""

    answer = models.ForeignKey(RequestAnswer, on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["answer_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "evidence"], name="answer_evidence_once"),
        ]

    def __str__(self) -> str:
        return f"evidence {self.evidence_id} of answer {self.answer_id}"


class Notification(models.Model):
    """A message to one user, listed over the API and sent by e-mail (``emailed_at`` once sent).

    ``subject`` and ``body`` are stored in English and shown in the request's language (mrv.i18n).
    """

    class Kind(models.TextChoices):
        REQUEST_OPENED = "request_opened", "Request for information opened"
        REQUEST_ANSWERED = "request_answered", "Request for information answered"
        REQUEST_CLOSED = "request_closed", "Request for information closed"
        DEADLINE_REMINDER = "deadline_reminder", "Deadline reminder"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, help_text="what the notification is about (ids, dates)")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["request_opened", "request_answered", "request_closed", "deadline_reminder"]
                ),
                name="notification_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id}"


class DeadlineReminder(models.Model):
    """A reminder sent: at most one per deadline (kind, facility, period), days before it and user, so a
    reminder run twice, or two runs at once, send nothing twice (the unique constraint decides)."""

    kind = models.CharField(max_length=24)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=7, help_text="YYYY or YYYY-MM")
    due_date = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="reminder")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "facility", "period", "days_before", "user"], name="deadline_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.period} of facility {self.facility_id}, {self.days_before} d, {self.user_id}"
        )


class FacilityGrant(models.Model):
    """An operator's grant to a consultant organisation: its members may act on this facility (with
    their membership's capability) until the grant is revoked; a revoked grant is kept as history."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="grants")
    grantee = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="grants",
        limit_choices_to={"kind": "consultant"},
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["facility_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "grantee"],
                condition=models.Q(revoked_at__isnull=True),
                name="facility_grant_one_active",
            )
        ]
        indexes = [models.Index(fields=["grantee", "revoked_at"])]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.grantee} on {self.facility} ({state})"


class Certification(models.Model):
    """A submitter's sign-off of one revision: the statement they confirmed, their name and when.

    Written in the transaction that submits the revision and covered by its digest (``mrv.services.reports``).
    """

    revision = models.OneToOneField(ReportRevision, on_delete=models.PROTECT, related_name="certification")
    statement = models.TextField()
    certified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150, help_text="the submitter's name as certified")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", help_text="the organisation they acted for"
    )
    capability = models.CharField(max_length=16)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"certification of {self.revision} by {self.name}"


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
