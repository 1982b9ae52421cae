from django.urls import path

from partnerapp.dashboard import invoice_views, job_views, views, wizard_views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("connections/<int:pk>/", views.connection_detail, name="connection"),
    path("connections/<int:pk>/invoices/", invoice_views.invoices, name="invoices"),
    path("connections/<int:pk>/jobs/new/", wizard_views.job_new, name="job_new"),
    path(
        "connections/<int:pk>/jobs/new/render/", wizard_views.job_new_render, name="job_new_render"
    ),
    path("connections/<int:pk>/requests/", views.request_log, name="request_log"),
    path("jobs/", job_views.job_list, name="jobs"),
    path("jobs/<int:pk>/", job_views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", job_views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/export.csv", job_views.job_export, name="job_export"),
    path("jobs/<int:pk>/<slug:command>/", job_views.job_control, name="job_control"),
]
