"""Evidence files of report revisions: upload onto the draft, list, metadata, delete from the draft, and
download (re-hashed before a byte is sent).

Thin views: validate input → call a service or a selector → serialize. Lookups go through the scoping
selectors (``reports_visible_to``, ``revisions_visible_to``, ``evidence_visible_to``): evidence outside the
user's scope is a 404 (a verifier or a regulator never sees the evidence of a draft). Only the facility's
operator uploads and deletes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from django.http import FileResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.lookups import query, report_for, require
from mrv.api.parsers import EvidenceMultiPartParser
from mrv.api.permissions import HasOrganisation, IsOperator
from mrv.api.renderers import JSONRenderer
from mrv.api.retry import retrying
from mrv.domain import evidence as kinds
from mrv.errors import InvalidRequest
from mrv.models import Evidence, Report, ReportRevision
from mrv.selectors import evidence as selectors
from mrv.selectors import scoping
from mrv.services import conversation
from mrv.services import evidence as services

SIGNED_IN = IsAuthenticated & HasOrganisation


# -- serializers ------------------------------------------------------------------------------------------
class EvidenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.IntegerField(source="revision.report_id")
    revision = serializers.IntegerField(source="revision.number", help_text="the revision's number")
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    line_ref = serializers.CharField(allow_null=True, help_text="the activity line it supports")
    parameter = serializers.CharField(allow_null=True, help_text="the line's parameter it supports")
    description = serializers.CharField(allow_blank=True)
    filename = serializers.CharField(help_text="the client's file name (display only; stored under another)")
    size = serializers.IntegerField(help_text="bytes")
    sha256 = serializers.CharField(help_text="SHA-256 of the bytes received (hex); re-checked at download")
    content_type = serializers.CharField(help_text="judged from the bytes, not from the name")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    request = serializers.IntegerField(
        source="request_id",
        allow_null=True,
        help_text="the request for information it was uploaded for (then not one of the revision's own files)",
    )
    download = serializers.CharField(help_text="path of the file's bytes")

    def to_representation(self, instance: Evidence) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["line_ref"] = instance.line_ref or None
        data["parameter"] = instance.parameter or None
        return data


class EvidencePage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    revision = serializers.IntegerField(help_text="the revision listed")
    results = EvidenceOutput(many=True)


class RequestEvidenceUpload(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"the file: {kinds.ALLOWED}, at most MRV_MAX_EVIDENCE_BYTES (judged by content)",
        allow_empty_file=False,
        use_url=False,
    )
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class EvidenceUpload(serializers.Serializer):
    file = serializers.FileField(
        help_text=f"the file: {kinds.ALLOWED}, at most MRV_MAX_EVIDENCE_BYTES (judged by content)",
        allow_empty_file=False,
        use_url=False,
    )
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    line_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    parameter = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RevisionQuery(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="a revision's number (default: the one shown)",
    )


def _with_download(evidence: Evidence) -> Evidence:
    evidence.download = f"/api/v1/evidence/{evidence.pk}/download/"  # type: ignore[attr-defined]
    return evidence


def with_download(evidence: Evidence) -> Evidence:
    """The evidence, with the path of its checked download (``download``)."""
    return _with_download(evidence)


def _out(evidence: Evidence) -> dict[str, Any]:
    return dict(EvidenceOutput(_with_download(evidence)).data)


def _listed_revision(request: Request, report: Report) -> ReportRevision:
    revisions = scoping.revisions_visible_to(request.user, report=report)
    number = query(RevisionQuery, request).get("revision")
    if number is not None:
        return get_object_or_404(revisions, number=number)
    revision = revisions.order_by("-number").first()
    assert revision is not None  # the scoping selector only finds reports with a visible revision
    return revision


def _evidence(request: Request, pk: int) -> Evidence:
    return get_object_or_404(scoping.evidence_visible_to(request.user), pk=pk)


# -- views ------------------------------------------------------------------------------------------------
class ReportEvidenceView(APIView):
    permission_classes = [SIGNED_IN]
    parser_classes = [EvidenceMultiPartParser]

    @extend_schema(
        parameters=[RevisionQuery], responses={200: EvidencePage}, operation_id="reports_evidence_list"
    )
    def get(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        revision = _listed_revision(request, report)
        rows = [
            _with_download(item)
            for item in selectors.evidence_of(revision=revision).select_related("revision")
        ]
        return Response(
            EvidencePage(
                {
                    "count": len(rows),
                    "next": None,
                    "previous": None,
                    "revision": revision.number,
                    "results": rows,
                }
            ).data
        )

    @extend_schema(
        request={"multipart/form-data": EvidenceUpload},
        responses={
            201: EvidenceOutput,
            409: OpenApiResponse(description="The report has no draft revision: its evidence is frozen."),
            413: OpenApiResponse(description="The file is larger than MRV_MAX_EVIDENCE_BYTES."),
            415: OpenApiResponse(description="The file's content is not PDF, PNG, JPEG, XLSX, CSV or TXT."),
        },
        operation_id="reports_evidence_create",
    )
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        report = report_for(request, pk)
        require(request, IsOperator)
        sent = len(request.FILES.getlist("file"))
        if sent > 1:  # the serializer would keep the last and drop the others unsaid
            raise InvalidRequest(
                "one evidence file per request",
                [
                    {
                        "pointer": "/file",
                        "code": "one_file",
                        "detail": f"{sent} files were sent: upload each alone",
                    }
                ],
            )
        data = EvidenceUpload(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = values["file"]
        evidence = services.evidence_upload(
            by=request.user,
            report=report,
            file=upload,
            filename=upload.name or "",
            kind=values["kind"],
            line_ref=values["line_ref"],
            parameter=values["parameter"],
            description=values["description"],
            sha256=getattr(upload, "sha256", None),  # computed while it streamed in (HashingUploadHandler)
            size=upload.size,
        )
        return Response(_out(evidence), status=201)


class EvidenceDetailView(APIView):
    permission_classes = [SIGNED_IN]

    @extend_schema(responses={200: EvidenceOutput}, operation_id="evidence_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(_out(_evidence(request, pk)))

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(
                description="The evidence belongs to a submitted revision (or to a closed request, or an answer "
                "names it): it is frozen."
            ),
        },
        operation_id="evidence_destroy",
    )
    @retrying
    def delete(self, request: Request, pk: int) -> Response:
        evidence = _evidence(request, pk)
        require(request, IsOperator)
        if evidence.request_id is not None:  # uploaded for a request for information
            conversation.request_evidence_delete(evidence=evidence, by=request.user)
        else:
            services.evidence_delete(by=request.user, evidence=evidence)
        return Response(status=204)


class AnyMediaRenderer(renderers.BaseRenderer):
    """Lets a download answer whatever the ``Accept`` header asks (the view answers the file itself)."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


class _Download(FileResponse):
    block_size = 1024 * 1024  # bytes sent at a time (Django's default: 4 KiB)


class EvidenceDownloadView(APIView):
    permission_classes = [SIGNED_IN]
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: OpenApiResponse(
                description="The stored file no longer matches the SHA-256 recorded at upload (or is missing): "
                "not served; the event is audited."
            ),
        },
        operation_id="evidence_download",
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        evidence = _evidence(request, pk)
        verified = services.evidence_read_verified(by=request.user, evidence=evidence)
        response = _Download(
            verified, as_attachment=True, filename=evidence.filename, content_type=evidence.content_type
        )
        response["Content-Length"] = str(evidence.size)
        response["ETag"] = f'"{evidence.sha256}"'
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(evidence.sha256)).decode()}:"
        response["X-Content-Type-Options"] = "nosniff"
        return response
