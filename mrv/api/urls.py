"""API v1 routes (mounted at /api/v1/)."""

from django.urls import path

from mrv.api import (
    aggregates,
    allocation,
    assignment,
    calculation,
    deposits,
    documents,
    plans,
    reporting,
    tokens,
    verification,
)

app_name = "api"

urlpatterns = [
    path("calculate/", calculation.CalculateView.as_view(), name="calculate"),
    path("calculate/compare/", calculation.CompareView.as_view(), name="calculate-compare"),
    path("auth/tokens/", tokens.TokenListView.as_view(), name="token-list"),
    path("auth/tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="token-detail"),
    path("methodologies/", calculation.MethodologyListView.as_view(), name="methodology-list"),
    path("methodologies/<str:code>/", calculation.MethodologyDetailView.as_view(), name="methodology-detail"),
    path("units/", calculation.UnitListView.as_view(), name="unit-list"),
    path("organisations/", reporting.OrganisationListView.as_view(), name="organisation-list"),
    path("organisations/<int:pk>/", reporting.OrganisationDetailView.as_view(), name="organisation-detail"),
    path("facilities/", reporting.FacilityListView.as_view(), name="facility-list"),
    path("facilities/<int:pk>/", reporting.FacilityDetailView.as_view(), name="facility-detail"),
    path(
        "facilities/<int:pk>/monitoring-plan/",
        plans.FacilityPlanView.as_view(),
        name="facility-monitoring-plan",
    ),
    path("monitoring-plans/", plans.PlanListView.as_view(), name="monitoring-plan-list"),
    path("monitoring-plans/<int:pk>/", plans.PlanDetailView.as_view(), name="monitoring-plan-detail"),
    path("monitoring-plans/<int:pk>/submit/", plans.PlanSubmitView.as_view(), name="monitoring-plan-submit"),
    path(
        "monitoring-plans/<int:pk>/approve/", plans.PlanApproveView.as_view(), name="monitoring-plan-approve"
    ),
    path("monitoring-plans/<int:pk>/return/", plans.PlanReturnView.as_view(), name="monitoring-plan-return"),
    path("reports/", reporting.ReportListView.as_view(), name="report-list"),
    path("reports/lines/template/", reporting.LineTemplateView.as_view(), name="report-line-template"),
    path("reports/<int:pk>/", reporting.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:pk>/submit/", reporting.ReportSubmitView.as_view(), name="report-submit"),
    path("reports/<int:pk>/revise/", reporting.ReportReviseView.as_view(), name="report-revise"),
    path("reports/<int:pk>/checks/", reporting.ReportChecksView.as_view(), name="report-checks"),
    path("reports/<int:pk>/revisions/", reporting.ReportRevisionListView.as_view(), name="report-revisions"),
    path(
        "reports/<int:pk>/revisions/<int:number>/copy-of-record.pdf",
        documents.CopyOfRecordView.as_view(),
        name="report-copy-of-record",
    ),
    path(
        "reports/<int:pk>/lines/import/",
        reporting.ReportLinesImportView.as_view(),
        name="report-lines-import",
    ),
    path(
        "reports/<int:pk>/recalculate/",
        verification.ReportRecalculateView.as_view(),
        name="report-recalculate",
    ),
    path("verification-jobs/", verification.JobListView.as_view(), name="job-list"),
    path("verification-jobs/<int:pk>/", verification.JobDetailView.as_view(), name="job-detail"),
    path("verification-jobs/<int:pk>/claim/", verification.JobClaimView.as_view(), name="job-claim"),
    path("verification-jobs/<int:pk>/release/", assignment.JobReleaseView.as_view(), name="job-release"),
    path("verification-jobs/<int:pk>/reassign/", assignment.JobReassignView.as_view(), name="job-reassign"),
    path("verification-jobs/<int:pk>/findings/", verification.JobFindingsView.as_view(), name="job-findings"),
    path(
        "verification-jobs/<int:pk>/findings/<int:finding>/acknowledge/",
        verification.FindingAcknowledgeView.as_view(),
        name="job-finding-acknowledge",
    ),
    path("verification-jobs/<int:pk>/opinion/", verification.JobOpinionView.as_view(), name="job-opinion"),
    path("verification-jobs/<int:pk>/rerun/", verification.JobRerunView.as_view(), name="job-rerun"),
    path("import-jobs/<int:pk>/", reporting.ImportJobDetailView.as_view(), name="import-job-detail"),
    path("aggregates/", aggregates.AggregatesView.as_view(), name="aggregates"),
    path("deposits/overdue/", deposits.OverdueDepositsView.as_view(), name="deposits-overdue"),
    path("aggregates/comparison/", aggregates.ComparisonView.as_view(), name="facility-comparison"),
    path("allocation-plans/", allocation.AllocationPlanListView.as_view(), name="allocation-plan-list"),
    path(
        "allocation-plans/<int:pk>/",
        allocation.AllocationPlanDetailView.as_view(),
        name="allocation-plan-detail",
    ),
    path(
        "allocation-plans/<int:pk>/publish/",
        allocation.AllocationPlanPublishView.as_view(),
        name="allocation-plan-publish",
    ),
    path(
        "allocation-plans/<int:pk>/preallocate/",
        allocation.AllocationPreallocateView.as_view(),
        name="allocation-plan-preallocate",
    ),
    path(
        "allocation-plans/<int:pk>/finalise/",
        allocation.AllocationFinaliseView.as_view(),
        name="allocation-plan-finalise",
    ),
    path(
        "allocation-runs/<int:pk>/",
        allocation.AllocationRunDetailView.as_view(),
        name="allocation-run-detail",
    ),
    path("allocations/", allocation.AllocationListView.as_view(), name="allocation-list"),
    path("compliance/", allocation.ComplianceListView.as_view(), name="compliance-list"),
    path(
        "compliance/<int:facility>/<int:year>/surrenders/",
        allocation.SurrenderView.as_view(),
        name="compliance-surrenders",
    ),
    path(
        "aggregates/allocation/", allocation.AllocationAggregatesView.as_view(), name="allocation-aggregates"
    ),
    path("audit-events/", reporting.AuditEventListView.as_view(), name="audit-event-list"),
]
