"""Who may act for whom: one's memberships, consultants' facility grants, memberships and jurisdictions.

- ``GET /api/v1/auth/memberships/``: the signed-in user's memberships (the ids the ``MRV-Membership``
  header names), the one this request acts for marked ``acting``.
- ``GET/POST /api/v1/facilities/{id}/grants/``, ``GET/DELETE .../grants/{grant}/``: an operator's
  submitter grants a consultant organisation access to one facility, and revokes it (at once).
- ``PATCH/DELETE /api/v1/memberships/{id}/``: capability, facilities and validity of a membership of
  one's own organisation (a submitter or a regulator), or of anyone's (a national regulator).
- ``PUT /api/v1/organisations/{id}/jurisdiction/``: a national authority sets an authority's provinces.

Every object is found through ``mrv.selectors.scoping``: outside one's scope, 404.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.lookups import MAX_ID, require
from mrv.api.permissions import HasOrganisation, IsNationalRegulator, MayGrant
from mrv.api.retry import retrying
from mrv.domain.provinces import PROVINCES
from mrv.models import Facility, FacilityGrant, Membership, Organisation
from mrv.selectors import scoping
from mrv.services import memberships as services

MEMBER = IsAuthenticated & HasOrganisation


class MembershipOutput(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    organisation_kind = serializers.CharField(source="organisation.kind", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    capability = serializers.CharField(
        read_only=True, help_text="operator side: preparer or submitter; empty for other roles"
    )
    facilities = serializers.SerializerMethodField()
    valid_now = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id",
            "username",
            "organisation",
            "organisation_name",
            "organisation_kind",
            "role",
            "capability",
            "facilities",
            "valid_from",
            "valid_until",
            "valid_now",
        ]
        read_only_fields = fields

    def get_facilities(self, membership: Membership) -> list[int]:
        return sorted(f.pk for f in membership.facilities.all())

    def get_valid_now(self, membership: Membership) -> bool:
        return membership.valid_at(self.context["now"])


class OwnMembershipOutput(MembershipOutput):
    acting = serializers.SerializerMethodField(help_text="the membership this request acts for")

    class Meta(MembershipOutput.Meta):
        fields = [*MembershipOutput.Meta.fields, "acting"]
        read_only_fields = fields

    def get_acting(self, membership: Membership) -> bool:
        return membership.pk == self.context["acting"]


class MembershipInput(serializers.Serializer):
    capability = serializers.ChoiceField(choices=Membership.Capability.choices, required=False)
    facilities = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=1000
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_until = serializers.DateTimeField(required=False, allow_null=True)


class GrantOutput(serializers.ModelSerializer):
    grantee_name = serializers.CharField(source="grantee.name", read_only=True)
    granted_by = serializers.CharField(source="granted_by.username", read_only=True, default=None)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, default=None)
    active = serializers.SerializerMethodField()

    class Meta:
        model = FacilityGrant
        fields = [
            "id",
            "facility",
            "grantee",
            "grantee_name",
            "granted_by",
            "granted_at",
            "revoked_by",
            "revoked_at",
            "active",
        ]
        read_only_fields = fields

    def get_active(self, grant: FacilityGrant) -> bool:
        return grant.revoked_at is None


class GrantInput(serializers.Serializer):
    grantee = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.CONSULTANT),
        help_text="the consultant organisation granted access to the facility",
    )


class JurisdictionInput(serializers.Serializer):
    provinces = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(PROVINCES)),
        allow_empty=True,
        help_text="ISO 3166-2:CN codes; empty: national",
    )


class JurisdictionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provinces = serializers.ListField(child=serializers.CharField())
    national = serializers.BooleanField()


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


class OwnMembershipListView(APIView):
    """The signed-in user's memberships: name one with ``MRV-Membership: <id>``, or use a bound token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OwnMembershipOutput(many=True)}, operation_id="auth_memberships_list")
    def get(self, request: Request) -> Response:
        found = scoping.memberships_of(request.user).select_related("user").prefetch_related("facilities")
        try:
            acting = scoping.membership(request.user)
        except (scoping.MembershipRequired, scoping.MembershipNotFound):
            acting = None
        context = {"now": _now(), "acting": acting.pk if acting else None}
        return Response(OwnMembershipOutput(found, many=True, context=context).data)


class MembershipDetailView(APIView):
    """One membership one may manage: change its capability, facilities and validity, or end it."""

    permission_classes = [MEMBER]

    def _membership(self, request: Request, pk: int) -> Membership:
        return get_object_or_404(scoping.memberships_managed_by(request.user), pk=pk)

    @extend_schema(responses={200: MembershipOutput})
    def get(self, request: Request, pk: int) -> Response:
        found = self._membership(request, pk)
        return Response(MembershipOutput(found, context={"now": _now()}).data)

    @extend_schema(request=MembershipInput, responses={200: MembershipOutput})
    @retrying
    def patch(self, request: Request, pk: int) -> Response:
        found = self._membership(request, pk)
        data = MembershipInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "facilities" in values:
            ids = values["facilities"]
            values["facilities"] = list(Facility.objects.filter(pk__in=ids))
            missing = sorted(set(ids) - {f.pk for f in values["facilities"]})
            if missing:
                raise serializers.ValidationError({"facilities": [f"No facility {missing[0]}."]})
        found = services.membership_update(by=request.user, membership=found, **values)
        return Response(MembershipOutput(found, context={"now": _now()}).data)

    @extend_schema(responses={204: None})
    @retrying
    def delete(self, request: Request, pk: int) -> Response:
        services.membership_delete(by=request.user, membership=self._membership(request, pk))
        return Response(status=204)


def _facility(request: Request, pk: int) -> Facility:
    return get_object_or_404(scoping.facilities_visible_to(request.user), pk=pk)


class GrantListView(APIView):
    """A facility's consultant grants (active and revoked); POST grants a consultant organisation access."""

    permission_classes = [MEMBER]

    @extend_schema(responses={200: GrantOutput(many=True)}, operation_id="facility_grants_list")
    def get(self, request: Request, pk: int) -> Response:
        grants = scoping.grants_visible_to(request.user, facility=_facility(request, pk))
        return Response(GrantOutput(grants, many=True).data)

    @extend_schema(request=GrantInput, responses={201: GrantOutput}, operation_id="facility_grants_create")
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        facility = _facility(request, pk)
        require(request, MayGrant)
        data = GrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.grant_create(
            by=request.user, facility=facility, grantee=data.validated_data["grantee"]
        )
        return Response(GrantOutput(grant).data, status=201)


class GrantDetailView(APIView):
    """One grant; DELETE revokes it: the consultant's next request no longer finds the facility."""

    permission_classes = [MEMBER]

    def _grant(self, request: Request, pk: int, grant: int) -> FacilityGrant:
        facility = _facility(request, pk)
        return get_object_or_404(scoping.grants_visible_to(request.user, facility=facility), pk=grant)

    @extend_schema(responses={200: GrantOutput})
    def get(self, request: Request, pk: int, grant: int) -> Response:
        return Response(GrantOutput(self._grant(request, pk, grant)).data)

    @extend_schema(responses={200: GrantOutput})
    @retrying
    def delete(self, request: Request, pk: int, grant: int) -> Response:
        found = self._grant(request, pk, grant)
        require(request, MayGrant)
        found = services.grant_revoke(by=request.user, grant=found)
        return Response(GrantOutput(found).data)


class JurisdictionView(APIView):
    """An authority's jurisdiction; a national authority's regulator sets it (audited)."""

    permission_classes = [MEMBER]

    def _authority(self, request: Request, pk: int) -> Organisation:
        visible = scoping.organisations_visible_to(request.user).filter(kind=Organisation.Kind.AUTHORITY)
        return get_object_or_404(visible, pk=pk)

    @staticmethod
    def _document(organisation: Organisation) -> dict[str, Any]:
        provinces = list(organisation.provinces)
        return {
            "id": organisation.pk,
            "name": organisation.name,
            "provinces": provinces,
            "national": not provinces,
        }

    @extend_schema(responses={200: JurisdictionOutput}, operation_id="organisation_jurisdiction_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(JurisdictionOutput(self._document(self._authority(request, pk))).data)

    @extend_schema(
        request=JurisdictionInput,
        responses={200: JurisdictionOutput},
        operation_id="organisation_jurisdiction_set",
    )
    @retrying
    def put(self, request: Request, pk: int) -> Response:
        organisation = self._authority(request, pk)
        require(request, IsNationalRegulator)
        data = JurisdictionInput(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = services.jurisdiction_set(
            by=request.user, organisation=organisation, provinces=data.validated_data["provinces"]
        )
        return Response(JurisdictionOutput(self._document(organisation)).data)
