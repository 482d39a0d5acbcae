from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken as KnoxAuthToken

from mrv.domain.provinces import CHOICES as PROVINCE_CHOICES
from mrv.models import (
    ApiToken,
    AuditCheckpoint,
    AuditEvent,
    Evidence,
    Facility,
    FacilityGrant,
    Membership,
    Organisation,
    Report,
    ReportRevision,
)
from mrv.services.memberships import grant_revoke, jurisdiction_set, membership_delete, membership_update
from mrv.services.tokens import token_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Models whose every write is audited by a service (organisations, memberships, facilities: a
    facility moved to another verification body moves its open jobs too): the admin shows them and
    changes nothing, so no write escapes the audit trail. Write through the API (regulator:
    organisations, facilities) or the management commands (create_api_user)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class JurisdictionForm(forms.ModelForm):
    provinces = forms.MultipleChoiceField(
        choices=PROVINCE_CHOICES, required=False, help_text="an authority's provinces; none: national"
    )

    class Meta:
        model = Organisation
        fields = ["provinces"]


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    """Organisations are shown; an authority's jurisdiction is changed here (through the audited service)."""

    list_display = ["name", "kind", "credit_code", "jurisdiction", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "credit_code"]
    form = JurisdictionForm
    fields = ["name", "kind", "credit_code", "provinces"]
    readonly_fields = ["name", "kind", "credit_code"]

    @admin.display(description="jurisdiction")
    def jurisdiction(self, obj: Organisation) -> str:
        if obj.kind != Organisation.Kind.AUTHORITY:
            return "-"
        return ", ".join(obj.provinces) or "national"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = request.user.has_perm("mrv.change_organisation")
        return allowed and (obj is None or obj.kind == Organisation.Kind.AUTHORITY)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        jurisdiction_set(by=request.user, organisation=obj, provinces=form.cleaned_data["provinces"])


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Memberships: capability, facilities and validity are changed here, and a membership ended (both
    through the audited services); new ones come from ``manage.py create_api_user``."""

    list_display = ["user", "organisation", "role", "capability", "valid_from", "valid_until"]
    list_filter = ["role", "capability"]
    list_select_related = ["user", "organisation"]
    search_fields = ["user__username", "organisation__name"]
    fields = ["user", "organisation", "role", "capability", "facilities", "valid_from", "valid_until"]
    readonly_fields = ["user", "organisation", "role"]
    filter_horizontal = ["facilities"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("mrv.change_membership")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("mrv.delete_membership")

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        data = form.cleaned_data
        membership_update(
            by=request.user,
            membership=Membership.objects.get(pk=obj.pk),
            capability=data.get("capability", obj.capability),
            facilities=list(data.get("facilities") or []),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The facilities were set by ``membership_update`` (audited with the rest)."""

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        membership_delete(by=request.user, membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset:
            membership_delete(by=request.user, membership=membership)


@admin.register(FacilityGrant)
class FacilityGrantAdmin(ReadOnlyAdmin):
    """Consultants' grants (made by operators through the API); an administrator may revoke them."""

    list_display = ["facility", "grantee", "granted_by", "granted_at", "revoked_at"]
    list_select_related = ["facility", "grantee", "granted_by"]
    list_filter = ["revoked_at"]
    search_fields = ["facility__name", "grantee__name"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected grants (effective at once)")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for grant in queryset.filter(revoked_at__isnull=True):
            grant_revoke(by=request.user, grant=grant)


@admin.register(Facility)
class FacilityAdmin(ReadOnlyAdmin):
    list_display = ["name", "operator", "sector", "province", "verification_body", "created_at"]
    list_filter = ["sector", "province"]
    list_select_related = ["operator", "verification_body"]
    search_fields = ["name", "operator__name"]


class RevisionInline(admin.TabularInline):
    model = ReportRevision
    fields = [
        "number",
        "status",
        "methodology",
        "methodology_version",
        "line_count",
        "digest",
        "submitted_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports are written through the API's services (calculation, digest, audit); the admin reads them.
    A report whose revisions have been submitted is read-only here as it is in the database."""

    list_display = ["__str__", "facility", "year", "month", "revision", "status", "created_at"]
    list_filter = ["status", "year", "facility__sector", "facility__province"]
    list_select_related = ["facility"]
    search_fields = ["facility__name"]
    inlines = [RevisionInline]
    readonly_fields = ["facility", "year", "month", "revision", "status", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only (the database refuses changes to it as well)."""

    list_display = ["chain", "sequence", "at", "actor_name", "action", "object_type", "object_id", "hash"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "actor_name", "hash", "chain"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    """Evidence files are uploaded and removed through the API (audited, frozen once submitted)."""

    list_display = ["filename", "kind", "revision", "size", "sha256", "uploaded_by", "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["filename", "sha256"]
    list_select_related = ["revision__report__facility", "uploaded_by"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """Signed checkpoints of every audit chain's head (manage.py audit_checkpoint, Celery beat)."""

    list_display = ["number", "at", "signature"]
    fields = readonly_fields = ["number", "at", "heads", "previous_signature", "signature"]


# knox registers its own token model, which KNOX_TOKEN_MODEL replaces with ApiToken: show ours only.
if admin.site.is_registered(KnoxAuthToken):
    admin.site.unregister(KnoxAuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens by prefix (only digests are stored); an administrator can revoke one, nothing else."""

    list_display = ["token_key", "user", "name", "created", "expiry", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username", "name"]
    fields = readonly_fields = ["token_key", "user", "name", "created", "expiry", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        token_revoke(user=obj.user, token=obj, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset.select_related("user"):
            token_revoke(user=token.user, token=token, by=request.user)
