"""Views outside the API: liveness and readiness probes, and problem-document 404/500 for API paths."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from mrv.api.problems import ProblemResponse, problem_document
from mrv.selectors.health import readiness


def _is_api(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Checks nothing else, so a database outage does not restart it."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database answers ``SELECT 1`` and the Celery broker accepts a connection."""
    checks = readiness()
    states = {name: "ok" if ready else "unavailable" for name, ready in checks.items()}
    if all(checks.values()):
        return JsonResponse({"status": "ok", "checks": states})
    failing = ", ".join(name for name, ready in checks.items() if not ready)
    return ProblemResponse(
        problem_document(
            status=503,
            code="not_ready",
            title="Service not ready",
            detail=f"Unavailable: {failing}.",
            checks=states,
        )
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return ProblemResponse(
            problem_document(status=404, code="not_found", detail=f"No resource at {request.path}.")
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return ProblemResponse(
            problem_document(
                status=500, code="internal_error", detail="The service failed to answer; the fault is logged."
            )
        )
    return defaults.server_error(request)
