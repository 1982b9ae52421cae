"""What the API reads and answers. Input is checked here for shape only; the rules
(which operation, which parameters, which selection) are the services' own checks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from partnerapp.connections.models import Connection
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import OPERATIONS
from partnerapp.jobs.selection import FILTER_KEYS


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable: branch on it."))
    message = serializers.CharField()
    fields = serializers.DictField(help_text=_("Field name: its problems."))
    request_id = serializers.CharField(help_text=_("Quote it to support (X-Request-Id)."))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ConnectionSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(source="scope_list", child=serializers.CharField())
    usable = serializers.BooleanField(source="is_usable")

    class Meta:
        model = Connection
        fields = ["id", "owner_name", "account_id", "status", "usable", "scopes", "created_at"]


class ConnectionHealthSerializer(serializers.ModelSerializer):
    usable = serializers.BooleanField(source="is_usable")
    rate_limit = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = ["id", "status", "usable", "last_error", "health_checked_at", "rate_limit"]

    def get_rate_limit(self, connection) -> dict:
        window = connection.rate
        return {"limit": window.limit, "remaining": window.remaining, "reset_at": window.reset_at}


class CountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    uncertain = serializers.IntegerField()
    total = serializers.IntegerField()
    finished = serializers.IntegerField()


JOB_NAME_HELP = _(
    "What people call the job. Empty: a name partnerapp makes (action, status filter, dates, "
    "and the number of items once prepared)."
)


class JobSerializer(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="connection_id")
    name = serializers.CharField(source="title", read_only=True, help_text=JOB_NAME_HELP)
    error = serializers.CharField(source="error_message", read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = BatchJob
        fields = [
            "id",
            "name",
            "connection",
            "action",
            "status",
            "pause_reason",
            "error",
            "auto_start",
            "selection",
            "parameters",
            "created_at",
            "prepared_at",
            "started_at",
            "finished_at",
            "counts",
        ]

    def get_counts(self, job) -> CountsSerializer:
        counts = self.context.get("counts", {})
        return counts.get(job.pk) or {}


class SelectionSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    filter = serializers.DictField(
        required=False, help_text=_("Keys: %(keys)s") % {"keys": ", ".join(FILTER_KEYS)}
    )


class JobCreateSerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    action = serializers.ChoiceField(choices=list(OPERATIONS))  # as BatchJob.action
    selection = SelectionSerializer(required=False, default=dict)
    parameters = serializers.DictField(required=False, default=dict)
    auto_start = serializers.BooleanField(
        default=False, help_text=_("Start once prepared, without the preview's confirm.")
    )
    name = serializers.CharField(
        allow_blank=True, default="", max_length=200, help_text=JOB_NAME_HELP
    )


class JobRenameSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, max_length=200, help_text=JOB_NAME_HELP)


class ConfirmSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(help_text=_("Must be true: you mean it."))


class JobItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobItem
        fields = [
            "id",
            "document_id",
            "document_number",
            "contact_name",
            "recipient_email",
            "state",
            "attempts",
            "outcome",
            "outcome_code",
            "outcome_params",
            "error_status",
            "request_id",
            "finished_at",
        ]


class ItemsPageSerializer(serializers.Serializer):
    results = JobItemSerializer(many=True)
    has_next = serializers.BooleanField()
    next_after = serializers.IntegerField(allow_null=True)


class PreviewSerializer(serializers.Serializer):
    counts = CountsSerializer()
    eta_seconds = serializers.FloatField(allow_null=True)
    skipped = JobItemSerializer(many=True)


class ControlResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text=_("Items or jobs changed (0: nothing)."))
    job = JobSerializer()


class ItemsQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=JobItem.State.values, required=False)
    q = serializers.CharField(required=False, max_length=200)
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)
