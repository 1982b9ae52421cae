from django.contrib import admin

from partnerapp.jobs.models import BatchJob, JobItem


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "action", "user", "connection", "status", "created_at"]
    list_filter = ["status", "action"]
    raw_id_fields = ["user", "connection"]


@admin.register(JobItem)
class JobItemAdmin(admin.ModelAdmin):
    list_display = ["pk", "job", "document_number", "state", "attempts", "request_id"]
    list_filter = ["state"]
    raw_id_fields = ["job"]
    search_fields = ["document_number", "recipient_email", "request_id"]
