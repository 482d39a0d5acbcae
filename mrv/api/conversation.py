"""The conversation around a verification (SPEC §10): requests for information and their answers,
deadlines with their status, and the user's notifications."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api.evidence import EvidenceOutput, RequestEvidenceUpload, with_download
from mrv.api.lookups import query, require
from mrv.api.pagination import PageNumberPagination
from mrv.api.parsers import EvidenceMultiPartParser
from mrv.api.permissions import HasOrganisation, IsOperator, IsVerifier
from mrv.api.retry import retrying
from mrv.api.serializers import paginated
from mrv.i18n import translate
from mrv.models import Evidence, InformationRequest, Notification
from mrv.selectors import deadlines, deposits, scoping
from mrv.selectors import evidence as evidence_selectors
from mrv.services import conversation as services
from mrv.services.notifications import notification_mark_read

VIEWER = IsAuthenticated & HasOrganisation


# -- requests for information ------------------------------------------------------------------------------
class RequestInput(serializers.Serializer):
    question = serializers.CharField(max_length=8000)
    line_ref = serializers.CharField(max_length=64, required=False, allow_blank=True)
    finding = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="a finding of this job"
    )
    due_date = serializers.DateField(help_text="the day the answer is due (today or later, Beijing time)")


class AnswerInput(serializers.Serializer):
    text = serializers.CharField(max_length=20000)
    evidence = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=100,
        help_text="ids of evidence files of this request (POST .../evidence/) or of the report's submitted "
        "revisions",
    )


class CloseInput(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class AnswerEvidenceOutput(serializers.Serializer):
    """An evidence file an answer names."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    filename = serializers.CharField(help_text="the client's file name (display only)")
    size = serializers.IntegerField(help_text="bytes")
    sha256 = serializers.CharField(help_text="SHA-256 of the bytes received (hex); re-checked at download")
    request = serializers.IntegerField(
        allow_null=True, help_text="the request it was uploaded for; null: a file of a submitted revision"
    )
    download = serializers.CharField(help_text="path of the file's bytes")


class AnswerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    answered_by = serializers.CharField(help_text="the operator's user name")
    answered_at = serializers.DateTimeField()
    evidence = AnswerEvidenceOutput(many=True)


class RequestOutput(serializers.Serializer):
    """A request for information on a verification job, with its answers."""

    id = serializers.IntegerField()
    job = serializers.IntegerField()
    report = serializers.IntegerField()
    facility = serializers.IntegerField()
    question = serializers.CharField()
    line_ref = serializers.CharField(allow_null=True)
    finding = serializers.IntegerField(allow_null=True)
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=InformationRequest.Status.choices)
    overdue = serializers.BooleanField(help_text="open and past its due date")
    opened_by = serializers.CharField()
    opened_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    closing_note = serializers.CharField(allow_null=True)
    answers = AnswerOutput(many=True)


RequestPage = paginated("InformationRequestPage", RequestOutput)


def request_json(request: InformationRequest) -> dict[str, Any]:
    report = request.job.revision.report
    return {
        "id": request.pk,
        "job": request.job_id,
        "report": report.pk,
        "facility": report.facility_id,
        "question": request.question,
        "line_ref": request.line_ref or None,
        "finding": request.finding_id,
        "due_date": request.due_date,
        "status": request.status,
        "overdue": request.status == InformationRequest.Status.OPEN and request.due_date < deposits.today(),
        "opened_by": request.opened_by.get_username(),
        "opened_at": request.opened_at,
        "answered_at": request.answered_at,
        "closed_by": request.closed_by.get_username() if request.closed_by else None,
        "closed_at": request.closed_at,
        "closing_note": request.closing_note or None,
        "answers": [
            {
                "id": answer.pk,
                "text": answer.text,
                "answered_by": answer.answered_by.get_username(),
                "answered_at": answer.answered_at,
                "evidence": [
                    {
                        "id": item.pk,
                        "kind": item.kind,
                        "filename": item.filename,
                        "size": item.size,
                        "sha256": item.sha256,
                        "request": item.request_id,
                        "download": f"/api/v1/evidence/{item.pk}/download/",
                    }
                    for item in sorted(answer.evidence.all(), key=lambda item: item.pk)
                ],
            }
            for answer in request.answers.all()
        ],
    }


def _with_answers(requests: Any) -> Any:
    return requests.prefetch_related("answers__answered_by", "answers__evidence")


def _request(request: Request, pk: int) -> InformationRequest:
    return get_object_or_404(_with_answers(scoping.requests_visible_to(request.user)), pk=pk)


def _page(view: APIView, request: Request, rows: Any) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(
        RequestOutput([request_json(r) for r in page or []], many=True).data
    )


class RequestFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=InformationRequest.Status.choices, required=False)


class JobRequestsView(APIView):
    """The requests for information of a verification job: listed by whoever sees the job, opened by the
    verifier who claimed it."""

    permission_classes = [VIEWER]

    @extend_schema(
        parameters=[RequestFilter, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: RequestPage},
        operation_id="verification_jobs_requests_list",
    )
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(scoping.jobs_visible_to(request.user), pk=pk)
        filters = query(RequestFilter, request)
        rows = _with_answers(scoping.requests_visible_to(request.user).filter(job=job, **filters))
        return _page(self, request, rows.order_by("opened_at", "id"))

    @extend_schema(request=RequestInput, responses={201: RequestOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(scoping.jobs_visible_to(request.user), pk=pk)
        require(request, IsVerifier)
        data = RequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        opened = services.request_open(job=job, by=request.user, **data.validated_data)
        return Response(RequestOutput(request_json(_request(request, opened.pk))).data, status=201)


class RequestListView(APIView):
    """Every request for information the user sees (the operator's, its body's, all for the regulator)."""

    permission_classes = [VIEWER]

    class FilterSerializer(RequestFilter):
        job = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
        facility = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: RequestPage},
        operation_id="requests_list",
    )
    def get(self, request: Request) -> Response:
        filters = query(self.FilterSerializer, request)
        if "facility" in filters:
            filters["job__revision__report__facility"] = filters.pop("facility")
        rows = _with_answers(scoping.requests_visible_to(request.user).filter(**filters))
        return _page(self, request, rows.order_by("opened_at", "id"))


class RequestDetailView(APIView):
    permission_classes = [VIEWER]

    @extend_schema(responses={200: RequestOutput})
    def get(self, request: Request, pk: int) -> Response:
        return Response(RequestOutput(request_json(_request(request, pk))).data)


class RequestAnswersView(APIView):
    """The report's operator answers (201: the request, now ``answered``)."""

    permission_classes = [VIEWER]

    @extend_schema(request=AnswerInput, responses={201: RequestOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        found = _request(request, pk)
        require(request, IsOperator)
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_answer(request=found, by=request.user, **data.validated_data)
        return Response(RequestOutput(request_json(_request(request, pk))).data, status=201)


class RequestEvidenceView(APIView):
    """Evidence files for a request: listed by whoever sees the request; uploaded by the report's operator
    while the request is open or answered (the checks, limits and storage of every evidence upload). They
    are attached to the revision under verification without changing its own evidence or its digest."""

    permission_classes = [VIEWER]
    parser_classes = [EvidenceMultiPartParser]

    @extend_schema(responses={200: EvidenceOutput(many=True)}, operation_id="requests_evidence_list")
    def get(self, request: Request, pk: int) -> Response:
        found = _request(request, pk)
        rows = [with_download(item) for item in evidence_selectors.evidence_of_request(request=found)]
        return Response(EvidenceOutput(rows, many=True).data)

    @extend_schema(
        request={"multipart/form-data": RequestEvidenceUpload},
        responses={
            201: EvidenceOutput,
            409: OpenApiResponse(description="The request is closed: its evidence is final."),
            413: OpenApiResponse(description="The file is larger than MRV_MAX_EVIDENCE_BYTES."),
            415: OpenApiResponse(description="The file's content is not PDF, PNG, JPEG, XLSX, CSV or TXT."),
        },
        operation_id="requests_evidence_create",
    )
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        found = _request(request, pk)
        require(request, IsOperator)
        data = RequestEvidenceUpload(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = values["file"]
        evidence = services.request_evidence_upload(
            request=found,
            by=request.user,
            file=upload,
            filename=upload.name or "",
            kind=values["kind"],
            description=values["description"],
            sha256=getattr(upload, "sha256", None),  # computed while it streamed in (HashingUploadHandler)
            size=upload.size,
        )
        shown = get_object_or_404(scoping.evidence_visible_to(request.user), pk=evidence.pk)
        return Response(EvidenceOutput(with_download(shown)).data, status=201)


class RequestCloseView(APIView):
    """The verifier who claimed the job closes the request, answered or not."""

    permission_classes = [VIEWER]

    @extend_schema(request=CloseInput, responses={200: RequestOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        found = _request(request, pk)
        require(request, IsVerifier)
        data = CloseInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.request_close(request=found, by=request.user, **data.validated_data)
        return Response(RequestOutput(request_json(_request(request, pk))).data)


# -- deadlines ----------------------------------------------------------------------------------------------
class DeadlineOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=deadlines.KINDS)
    facility = serializers.IntegerField()
    facility_name = serializers.CharField()
    period = serializers.CharField(help_text="YYYY-MM (a monthly deposit) or YYYY")
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=deadlines.STATUSES)
    met_at = serializers.DateTimeField(allow_null=True)
    source = serializers.CharField(help_text="the methodology version (code@version) that gives the date")


DeadlinePage = paginated("DeadlinePage", DeadlineOutput)


class DeadlineListView(APIView):
    """The deadlines of a year of the facilities the user sees, with their status."""

    permission_classes = [VIEWER]

    class FilterSerializer(serializers.Serializer):
        year = serializers.IntegerField(min_value=1990, max_value=2100, help_text="the period's year")
        facility = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
        kind = serializers.ChoiceField(choices=deadlines.KINDS, required=False)
        status = serializers.ChoiceField(choices=deadlines.STATUSES, required=False)
        on = serializers.DateField(required=False, help_text="the day to judge on (default: today, Beijing)")

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: DeadlinePage},
    )
    def get(self, request: Request) -> Response:
        rows = deadlines.deadlines_for(user=request.user, **query(self.FilterSerializer, request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(DeadlineOutput(page or [], many=True).data)


# -- notifications ------------------------------------------------------------------------------------------
class NotificationDataOutput(serializers.Serializer):
    """What a notification is about: a request for information (``request``, ``job``, ``report``,
    ``facility``, ``due_date``, ``answer``) or a deadline (``deadline``, ``facility``, ``period``,
    ``due_date``, ``days_before``)."""

    request = serializers.IntegerField(required=False)
    job = serializers.IntegerField(required=False)
    report = serializers.IntegerField(required=False)
    answer = serializers.IntegerField(required=False)
    facility = serializers.IntegerField(required=False)
    deadline = serializers.ChoiceField(choices=deadlines.KINDS, required=False)
    period = serializers.CharField(required=False)
    due_date = serializers.DateField(required=False)
    days_before = serializers.IntegerField(required=False)


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    subject = serializers.CharField()
    body = serializers.CharField()
    data = NotificationDataOutput()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()
    read_at = serializers.DateTimeField(allow_null=True)
    emailed_at = serializers.DateTimeField(allow_null=True)


NotificationPage = paginated("NotificationPage", NotificationOutput)


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "subject": translate(notification.subject),
        "body": translate(notification.body),
        "data": notification.data,
        "created_at": notification.created_at,
        "read": notification.read_at is not None,
        "read_at": notification.read_at,
        "emailed_at": notification.emailed_at,
    }


class NotificationListView(APIView):
    """The user's own notifications, newest first."""

    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: NotificationPage},
    )
    def get(self, request: Request) -> Response:
        filters = query(self.FilterSerializer, request)
        rows = scoping.notifications_visible_to(request.user).order_by("-created_at", "-id")
        if "unread" in filters:
            rows = rows.filter(read_at__isnull=filters["unread"])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            NotificationOutput([notification_json(n) for n in page or []], many=True).data
        )


class NotificationReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: NotificationOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        found = get_object_or_404(scoping.notifications_visible_to(request.user), pk=pk)
        return Response(
            NotificationOutput(
                notification_json(notification_mark_read(notification=found, by=request.user))
            ).data
        )
