"""API v1 routes (mounted at /api/v1/)."""

from django.urls import path

from mrv.api import calculation

app_name = "api"

urlpatterns = [
    path("calculate/", calculation.CalculateView.as_view(), name="calculate"),
    path("methodologies/", calculation.MethodologyListView.as_view(), name="methodology-list"),
    path("methodologies/<str:code>/", calculation.MethodologyDetailView.as_view(), name="methodology-detail"),
    path("units/", calculation.UnitListView.as_view(), name="unit-list"),
]
