"""The competent authority's hand on the verifier's queue: release or reassign a claimed job.

Moving a facility's open jobs to another verification body is not an endpoint of its own: it follows
a change of the facility's ``verification_body`` (``PATCH /api/v1/facilities/{id}/``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mrv.api import serializers as out
from mrv.api.lookups import require
from mrv.api.permissions import IsRegulator
from mrv.api.retry import retrying
from mrv.api.verification import VIEWER, _job, job_json
from mrv.services import assignment as services


class ReleaseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class ReassignInput(serializers.Serializer):
    verifier = serializers.CharField(max_length=150, help_text="user name of a verifier of the job's body")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class JobReleaseView(APIView):
    """A regulator takes a claimed job back from its verifier: awaiting review again (audited)."""

    permission_classes = [VIEWER]

    @extend_schema(request=ReleaseInput, responses={200: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsRegulator)
        data = ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_release(job=job, by=request.user, **data.validated_data)
        return Response(out.VerificationJobOutput(job_json(job)).data)


class JobReassignView(APIView):
    """A regulator gives a job awaiting or in review to a named verifier of its body (audited)."""

    permission_classes = [VIEWER]

    @extend_schema(request=ReassignInput, responses={200: out.VerificationJobOutput})
    @retrying
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        require(request, IsRegulator)
        data = ReassignInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_reassign(job=job, by=request.user, **data.validated_data)
        return Response(out.VerificationJobOutput(job_json(job)).data)
