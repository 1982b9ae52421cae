"""/api/v1/: the partner API (authenticated by API keys), its OpenAPI and its docs."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from partnerapp.api import errors, views, views_resources

app_name = "api"

controls = [
    path(f"jobs/<int:pk>/{command}", views.JobControl.as_view(command=command))
    for command in views.CONTROLS
]

# The document and its docs are public: they describe the API, they show no data.
public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

# Swagger UI (served by us from the sidecar, its script from a file: script-src stays
# 'self') writes style attributes while it renders; only this page allows inline styles.
docs = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:openapi", **public)
)

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(**public), name="openapi"),
    path("docs/", docs, name="docs"),
    path("connections", views.ConnectionList.as_view(), name="connections"),
    path("connections/<int:pk>", views.ConnectionDetail.as_view(), name="connection"),
    path("connections/<int:pk>/health", views.ConnectionHealth.as_view(), name="health"),
    path("jobs", views.JobList.as_view(), name="jobs"),
    path("jobs/<int:pk>", views.JobDetail.as_view(), name="job"),
    path("jobs/<int:pk>/preview", views.JobPreview.as_view(), name="job_preview"),
    path("jobs/<int:pk>/items", views.JobItems.as_view(), name="job_items"),
    path("jobs/<int:pk>/csv", views.JobCsv.as_view(), name="job_csv"),
    *controls,
    path(
        "connections/<int:pk>/documents",
        views_resources.DocumentList.as_view(),
        name="documents",
    ),
    path(
        "connections/<int:pk>/documents/<int:document_id>",
        views_resources.DocumentDetail.as_view(),
        name="document",
    ),
    path("connect-links", views_resources.ConnectLinkList.as_view(), name="connect_links"),
    path(
        "connect-links/<int:pk>", views_resources.ConnectLinkDetail.as_view(), name="connect_link"
    ),
    path("schedules", views_resources.ScheduleList.as_view(), name="schedules"),
    path("schedules/<int:pk>", views_resources.ScheduleDetail.as_view(), name="schedule"),
    path("payment-imports", views_resources.PaymentImportList.as_view(), name="payment_imports"),
    path(
        "payment-imports/<int:pk>",
        views_resources.PaymentImportDetail.as_view(),
        name="payment_import",
    ),
    path(
        "payment-imports/<int:pk>/confirm",
        views_resources.PaymentImportConfirm.as_view(),
        name="payment_import_confirm",
    ),
    re_path(r"^", errors.not_found),  # anything else (even a newline): the API's 404
]
