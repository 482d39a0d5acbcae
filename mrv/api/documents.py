"""The copy of record of a submitted revision: ``GET /api/v1/reports/{id}/revisions/{n}/copy-of-record.pdf``.

Who may read it is who may read the revision (the operator, its facility's verification body, the
competent authority): a report or revision outside the user's scope is a 404 (a verifier or a regulator
never sees a draft), a draft revision a 409 (its operator sees it, but a draft has no copy of record).
The language is the request's (``?lang=zh-hans`` or ``Accept-Language: zh-Hans``; English by default).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from mrv import i18n
from mrv.api.lookups import report_for
from mrv.api.permissions import HasOrganisation
from mrv.api.renderers import JSONRenderer, dumps
from mrv.documents import copy_of_record as document
from mrv.errors import Conflict
from mrv.models import ReportRevision
from mrv.selectors import scoping
from mrv.selectors.records import copy_of_record

PDF = "application/pdf"


class PDFRenderer(renderers.BaseRenderer):
    """``application/pdf``: the view answers the PDF itself; a problem document stays JSON."""

    media_type = PDF
    format = "pdf"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/problem+json"
        return dumps(data)


class CopyOfRecordView(APIView):
    permission_classes = [IsAuthenticated & HasOrganisation]
    renderer_classes = [PDFRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("lang", str, enum=["en", "zh-hans"], description="the document's language")
        ],
        responses={(200, PDF): OpenApiTypes.BINARY},
        operation_id="reports_revisions_copy_of_record",
    )
    def get(self, request: Request, pk: int, number: int) -> HttpResponse:
        report = report_for(request, pk)
        revision = get_object_or_404(
            scoping.revisions_visible_to(request.user, report=report).select_related(
                "report__facility__operator", "submitted_by"
            ),
            number=number,
        )
        if revision.status == ReportRevision.Status.DRAFT or revision.submitted_at is None:
            raise Conflict(
                f"revision {revision.number} is a draft: a copy of record is made of a submitted revision; "
                "submit it first"
            )
        language = "zh-hans" if i18n.chinese() else "en"
        pdf = document.render(copy_of_record(revision=revision), language=language)
        response = HttpResponse(pdf, content_type=PDF)
        response["Content-Disposition"] = (
            f'inline; filename="report-{report.pk}-r{revision.number}-{language}.pdf"'
        )
        response["Content-Language"] = translation.get_language() or language
        response["ETag"] = f'"{hashlib.sha256(pdf).hexdigest()[:32]}"'
        return response
