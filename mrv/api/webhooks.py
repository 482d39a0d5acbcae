"""``/api/v1/webhooks/``: an organisation's webhooks, their delivery log and redelivery (SPEC §10).

Any member of an organisation lists, creates and deletes its webhooks; other organisations' are a 404.
The signing secret is in the answer to the create request only (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.permissions import HasOrganisation
from mrv.api.retry import retrying
from mrv.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from mrv.selectors import scoping
from mrv.services import webhooks as services

MEMBER = IsAuthenticated & HasOrganisation


class WebhookOutput(serializers.ModelSerializer):
    secret_prefix = serializers.CharField(help_text="the secret's first characters, to tell secrets apart")
    created_by = serializers.CharField(source="created_by.username")
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "secret_prefix", "created_by", "created_at"]


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.CharField(
        help_text="the signing secret: shown this once; verify MRV-Signature with it (README, Webhooks)"
    )

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


class WebhookInput(serializers.Serializer):
    url = serializers.URLField(
        max_length=2000, help_text="https, to a public address in production (http allowed in development)"
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=20
    )


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "at", "status_code", "error", "duration_ms"]


def _optional(field: type[serializers.Field], **kwargs: Any) -> serializers.Field:
    return field(required=False, **kwargs)


#: What an event's ``data`` may hold: which members depends on the event type (README, Webhooks).
EVENT_DATA = inline_serializer(
    name="WebhookEventData",
    fields={
        "report": _optional(serializers.IntegerField),
        "facility": _optional(serializers.IntegerField),
        "year": _optional(serializers.IntegerField),
        "month": _optional(serializers.IntegerField, allow_null=True),
        "revision": _optional(serializers.IntegerField),
        "status": _optional(serializers.CharField, help_text="the revision's (or job's) status now"),
        "from": _optional(serializers.CharField, help_text="report.status_changed: the status before"),
        "job": _optional(serializers.IntegerField),
        "verification_body": _optional(serializers.IntegerField, allow_null=True),
        "findings": _optional(serializers.IntegerField),
        "released_from": _optional(serializers.CharField, allow_null=True),
        "opinion": _optional(serializers.CharField),
        "material": _optional(serializers.BooleanField),
        "revision_status": _optional(serializers.CharField),
        "due_date": _optional(serializers.DateField),
        "deposited_at": _optional(serializers.DateTimeField),
        "days_late": _optional(serializers.IntegerField),
        "request": _optional(serializers.IntegerField, help_text="request.*: the request for information"),
        "answer": _optional(serializers.IntegerField, help_text="request.answered: the answer"),
        "kind": _optional(serializers.CharField, help_text="deadline.approaching: the deadline's kind"),
        "days_before": _optional(serializers.IntegerField, help_text="deadline.approaching: days left"),
    },
)
EVENT_BODY = inline_serializer(
    name="WebhookEventBody",
    fields={
        "id": serializers.UUIDField(),
        "type": serializers.ChoiceField(choices=WebhookEvent.choices),
        "created_at": serializers.DateTimeField(),
        "data": EVENT_DATA,
    },
)


class DeliveryOutput(serializers.ModelSerializer):
    tries = AttemptOutput(many=True, help_text="every try, oldest first")
    body = serializers.SerializerMethodField(
        help_text="the JSON document POSTed: {id, type, created_at, data}"
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "body",
            "tries",
        ]

    @extend_schema_field(EVENT_BODY)
    def get_body(self, delivery: WebhookDelivery) -> dict[str, Any]:
        document: dict[str, Any] = orjson.loads(delivery.body)
        return document


def _webhook(request: Request, pk: int) -> WebhookSubscription:
    return get_object_or_404(scoping.webhooks_visible_to(request.user).select_related("organisation"), pk=pk)


class WebhookListView(generics.ListAPIView):
    """The organisation's webhooks (newest first); POST subscribes and answers the secret once."""

    serializer_class = WebhookOutput
    permission_classes = [MEMBER]

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return scoping.webhooks_visible_to(self.request.user).select_related("created_by")

    @extend_schema(
        request=WebhookInput, responses={201: WebhookCreatedOutput}, operation_id="webhooks_create"
    )
    @retrying
    def post(self, request: Request) -> Response:
        data = WebhookInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.subscription_create(
            by=request.user, url=data.validated_data["url"], events=data.validated_data["events"]
        )
        document = {**WebhookOutput(created.subscription).data, "secret": created.secret}
        return Response(document, status=201, headers={"Cache-Control": "no-store"})


class WebhookDetailView(generics.RetrieveDestroyAPIView):
    """One of the organisation's webhooks; DELETE stops every delivery to it at once."""

    serializer_class = WebhookOutput
    permission_classes = [MEMBER]
    delete = retrying(generics.RetrieveDestroyAPIView.delete)

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return scoping.webhooks_visible_to(self.request.user).select_related("created_by", "organisation")

    def perform_destroy(self, instance: Any) -> None:
        services.subscription_delete(by=self.request.user, subscription=instance)


class WebhookDeliveryListView(generics.ListAPIView):
    """The webhook's deliveries, newest first, each with its tries (time, HTTP status, error, duration)."""

    serializer_class = DeliveryOutput
    permission_classes = [MEMBER]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        webhook = _webhook(self.request, self.kwargs["pk"])
        return scoping.webhook_deliveries_visible_to(self.request.user, subscription=webhook)


class WebhookRedeliverView(APIView):
    """Send a delivered or failed delivery again: same event id and body, a new series of tries (202)."""

    permission_classes = [MEMBER]

    @extend_schema(
        request=None, responses={202: DeliveryOutput}, operation_id="webhooks_deliveries_redeliver"
    )
    @retrying
    def post(self, request: Request, pk: int, delivery: int) -> Response:
        webhook = _webhook(request, pk)
        found = get_object_or_404(
            scoping.webhook_deliveries_visible_to(request.user, subscription=webhook), pk=delivery
        )
        redelivered = services.delivery_redeliver(by=request.user, delivery=found)
        fresh = WebhookDelivery.objects.prefetch_related("tries").get(pk=redelivered.pk)
        return Response(DeliveryOutput(fresh).data, status=202)
