"""Input and output of documents, connect links, schedules and payment imports."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from partnerapp.connections.forms import SCOPE_CHOICES
from partnerapp.connections.models import Connection, ConnectLink
from partnerapp.jobs.models import Schedule
from partnerapp.jobs.operations import OPERATIONS, JobInputError, operation_choices
from partnerapp.jobs.schedules import cron_check
from partnerapp.jobs.selection import FILTER_KEYS
from partnerapp.receivables.models import BankTransaction, BankUpload
from partnerapp.smartbusiness.client import MAX_PAGE_SIZE
from partnerapp.smartbusiness.vocabulary import DOCUMENT_STATUSES

# A schedule runs the operations a person runs over a selection (not payments from a file).
SCHEDULE_ACTIONS = [key for key, _label in operation_choices()]
LINK_SCOPES = [value for value, _label in SCOPE_CHOICES]  # as the site's connect form


class DocumentQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=sorted(DOCUMENT_STATUSES), required=False)
    q = serializers.CharField(required=False, max_length=200)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    contact_id = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    limit = serializers.IntegerField(
        required=False, default=25, min_value=1, max_value=MAX_PAGE_SIZE
    )
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10**6)


class DocumentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="matching documents at the provider")
    results = serializers.ListField(child=serializers.DictField())


class ConnectLinkSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True)
    scopes = serializers.SerializerMethodField()

    class Meta:
        model = ConnectLink
        fields = [
            "id",
            "client_name",
            "client_email",
            "scopes",
            "language",
            "state",
            "created_at",
            "expires_at",
            "opened_at",
            "completed_at",
            "connection",
        ]

    def get_scopes(self, link) -> list[str]:
        return link.scopes.split()


class ConnectLinkCreatedSerializer(ConnectLinkSerializer):
    url = serializers.URLField(help_text="Send it to the client; shown in this answer only.")

    class Meta(ConnectLinkSerializer.Meta):
        fields = [*ConnectLinkSerializer.Meta.fields, "url"]


class ConnectLinkCreateSerializer(serializers.Serializer):
    client_name = serializers.CharField(max_length=200)
    client_email = serializers.EmailField(required=False, default="")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=LINK_SCOPES), min_length=1, max_length=10
    )
    language = serializers.ChoiceField(choices=[code for code, _name in settings.LANGUAGES])
    message = serializers.CharField(required=False, default="", max_length=1000, allow_blank=True)


class ScheduleSerializer(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="connection_id")

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "connection",
            "action",
            "cron",
            "time_zone",
            "selection",
            "parameters",
            "enabled",
            "created_at",
            "last_slot_at",
        ]


class ScheduleInputSerializer(serializers.Serializer):
    """A schedule as the API takes it; the parameters are checked by the operation's own
    form, the cron expression by `cron_check`, as on the site."""

    name = serializers.CharField(max_length=200)
    connection = serializers.IntegerField()
    action = serializers.ChoiceField(choices=SCHEDULE_ACTIONS)
    cron = serializers.CharField(max_length=100)
    time_zone = serializers.CharField(max_length=64, default="Europe/Zurich")
    selection = serializers.DictField(
        default=dict, help_text=f'{{"filter": {{...}}}} with keys {", ".join(FILTER_KEYS)}'
    )
    parameters = serializers.DictField(default=dict)
    enabled = serializers.BooleanField(default=True)

    def validate_connection(self, pk: int) -> Connection:
        found = Connection.objects.filter(organization=self.context["organization"], pk=pk).first()
        if found is None:
            raise serializers.ValidationError(_("No such connection."))
        return found

    def validate_cron(self, expression: str) -> str:
        try:
            return cron_check(" ".join(expression.split()))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_time_zone(self, zone: str) -> str:
        if zone not in available_timezones():
            raise serializers.ValidationError(_("Unknown time zone."))
        return zone

    def validate_selection(self, selection: dict) -> dict:
        chosen = selection.get("filter")
        if set(selection) - {"filter"} or not isinstance(chosen, dict):
            raise serializers.ValidationError(_('Give {"filter": {...}}.'))
        unknown = set(chosen) - set(FILTER_KEYS)
        if unknown or not all(isinstance(value, str | int) for value in chosen.values()):
            raise serializers.ValidationError(_("Unknown filter field or value."))
        return {"filter": chosen}

    def validate(self, data: dict) -> dict:
        operation = OPERATIONS.get(data.get("action", ""))
        if operation is not None and "parameters" in data:
            try:
                data["parameters"] = operation.check(data["parameters"])
            except JobInputError as exc:
                raise serializers.ValidationError({"parameters": [str(exc)]}) from exc
        return data


class PaymentImportSerializer(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="connection_id")

    class Meta:
        model = BankUpload
        fields = [
            "id",
            "connection",
            "filename",
            "format",
            "state",
            "error",
            "size",
            "uploaded_at",
            "matched_at",
        ]


class PaymentImportUploadSerializer(serializers.Serializer):
    connection = serializers.IntegerField()
    file = serializers.FileField()


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = BankTransaction
        fields = [
            "id",
            "booking_date",
            "amount",
            "currency",
            "reference",
            "payer",
            "match_status",
            "classification",
            "candidates",
            "amount_to_record",
            "state",
            "job",
            "invoice_id",
        ]


class PaymentImportReviewSerializer(PaymentImportSerializer):
    entries = EntrySerializer(many=True)

    class Meta(PaymentImportSerializer.Meta):
        fields = [*PaymentImportSerializer.Meta.fields, "entries"]


class PaymentConfirmSerializer(serializers.Serializer):
    picks = serializers.DictField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        help_text="entry id → the invoice id it pays (one of the entry's candidates)",
    )

    def validate_picks(self, picks: dict) -> dict:
        if not all(str(key).isdigit() for key in picks):
            raise serializers.ValidationError(_("Entry ids are whole numbers."))
        return picks
