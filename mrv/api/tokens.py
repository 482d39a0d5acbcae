"""``/api/v1/auth/tokens/``: a user lists, creates and revokes their own API tokens.

A token is listed by its ``prefix`` (its first characters, not enough to use it), never by its secret.
A new token is bound to the membership the creating request acts for (its token's, or the one named
by the ``MRV-Membership`` header). The plain token is in the answer to the create request only
(``Cache-Control: no-store``); the service keeps its SHA-512 digest. Another user's token is a 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from mrv.api.retry import retrying
from mrv.models import ApiToken
from mrv.selectors.scoping import membership
from mrv.selectors.tokens import tokens_of
from mrv.services.tokens import token_issue, token_revoke


class TokenOutput(serializers.ModelSerializer):
    prefix = serializers.CharField(source="token_key", help_text="the token's first characters")
    created_at = serializers.DateTimeField(source="created")
    expires_at = serializers.DateTimeField(source="expiry")
    expired = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "name", "membership", "created_at", "expires_at", "last_used_at", "expired"]
        extra_kwargs = {"membership": {"read_only": True, "help_text": "the membership the token acts for"}}

    def get_expired(self, token: ApiToken) -> bool:
        return token.expiry is not None and token.expiry <= timezone.now()


class TokenCreatedOutput(TokenOutput):
    token = serializers.CharField(
        help_text="the token: shown this once, send it as 'Authorization: Token <token>'"
    )

    class Meta(TokenOutput.Meta):
        fields = [*TokenOutput.Meta.fields, "token"]


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expires_in_days = serializers.IntegerField(
        min_value=1, required=False, help_text="at most, and by default, MRV_TOKEN_TTL_DAYS (90)"
    )

    def validate_expires_in_days(self, value: int) -> int:
        if value > settings.MRV_TOKEN_TTL_DAYS:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {settings.MRV_TOKEN_TTL_DAYS}.", code="max_value"
            )
        return value


class TokenListView(generics.ListAPIView):
    """The signed-in user's tokens (newest first); POST creates one and answers it once."""

    serializer_class = TokenOutput
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens_of(self.request.user)

    @extend_schema(request=TokenInput, responses={201: TokenCreatedOutput}, operation_id="auth_tokens_create")
    @retrying
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        days = data.validated_data.get("expires_in_days")
        issued = token_issue(
            user=request.user,
            name=data.validated_data["name"],
            expires_in=timedelta(days=days) if days else None,
            membership=membership(request.user),  # bound to the membership this request acts for
        )
        document = {**TokenOutput(issued.token).data, "token": issued.key}
        return Response(document, status=201, headers={"Cache-Control": "no-store"})


class TokenDetailView(generics.RetrieveDestroyAPIView):
    """One of the user's tokens; DELETE revokes it at once (the token in use too)."""

    serializer_class = TokenOutput
    permission_classes = [IsAuthenticated]
    delete = retrying(generics.RetrieveDestroyAPIView.delete)

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens_of(self.request.user)

    def perform_destroy(self, instance: Any) -> None:
        token_revoke(user=self.request.user, token=instance)
