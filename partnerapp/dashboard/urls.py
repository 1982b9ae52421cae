from django.urls import path

from partnerapp.dashboard import (
    document_views,
    invoice_views,
    job_views,
    payment_views,
    schedule_views,
    views,
    wizard_views,
)

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("connections/<int:pk>/", views.connection_detail, name="connection"),
    path("connections/<int:pk>/invoices/", invoice_views.invoices, name="invoices"),
    path(
        "connections/<int:pk>/invoices/<int:invoice_id>/",
        document_views.invoice,
        name="invoice",
    ),
    path(
        "connections/<int:pk>/invoices/<int:invoice_id>/preview/",
        document_views.invoice_preview,
        name="invoice_preview",
    ),
    path(
        "connections/<int:pk>/invoices/<int:invoice_id>/pdf/",
        document_views.invoice_pdf,
        name="invoice_pdf",
    ),
    path("connections/<int:pk>/jobs/new/", wizard_views.job_new, name="job_new"),
    path(
        "connections/<int:pk>/jobs/new/render/", wizard_views.job_new_render, name="job_new_render"
    ),
    path("connections/<int:pk>/requests/", views.request_log, name="request_log"),
    path("connections/<int:pk>/bank-files/", payment_views.bank_files, name="bank_files"),
    path("bank-files/<int:pk>/", payment_views.bank_file, name="bank_file"),
    path("bank-files/<int:pk>/confirm/", payment_views.bank_file_confirm, name="bank_file_confirm"),
    path(
        "bank-files/<int:pk>/match-again/",
        payment_views.bank_file_rematch,
        name="bank_file_rematch",
    ),
    path(
        "bank-files/<int:pk>/entries/<int:transaction_pk>/open-again/",
        payment_views.bank_file_release,
        name="bank_file_release",
    ),
    path("activity/", views.activity, name="activity"),
    path("jobs/", job_views.job_list, name="jobs"),
    path("jobs/<int:pk>/", job_views.job_detail, name="job"),
    path("jobs/<int:pk>/progress/", job_views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/export.csv", job_views.job_export, name="job_export"),
    path("jobs/<int:pk>/pdfs.zip", job_views.job_archive, name="job_archive"),
    path("jobs/<int:pk>/items/", job_views.job_items, name="job_items"),
    path("jobs/<int:pk>/items/<int:item_pk>/", job_views.job_item, name="job_item"),
    path(
        "jobs/<int:pk>/items/<int:item_pk>/resend/",
        job_views.job_item_resend,
        name="job_item_resend",
    ),
    path(
        "jobs/<int:pk>/items/<int:item_pk>/recipient/",
        job_views.job_item_recipient,
        name="job_item_recipient",
    ),
    path("jobs/<int:pk>/name/", job_views.job_rename, name="job_rename"),
    path("jobs/<int:pk>/<slug:command>/", job_views.job_control, name="job_control"),
    path("schedules/", schedule_views.schedule_list, name="schedules"),
    path("schedules/new/", schedule_views.schedule_create, name="schedule_create"),
    path(
        "schedules/weekly-reminders/",
        schedule_views.schedule_weekly_reminders,
        name="schedule_weekly_reminders",
    ),
    path("schedules/<int:pk>/", schedule_views.schedule_detail, name="schedule"),
    path("schedules/<int:pk>/toggle/", schedule_views.schedule_toggle, name="schedule_toggle"),
    path("schedules/<int:pk>/delete/", schedule_views.schedule_delete, name="schedule_delete"),
]
