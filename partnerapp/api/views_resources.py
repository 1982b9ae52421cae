"""The partner API beyond jobs: a connection's documents (the provider's, proxied),
connect links, schedules and payment imports. Same rules as `views.py`."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from partnerapp.api import serializers as s
from partnerapp.api import serializers_resources as r
from partnerapp.api.errors import ApiError
from partnerapp.api.idempotency import idempotent
from partnerapp.api.views import IDEMPOTENCY_PARAMETER, PartnerListView, PartnerView, _connection
from partnerapp.connections import links
from partnerapp.connections.models import ConnectLink
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.jobs import schedules
from partnerapp.jobs.models import Schedule
from partnerapp.jobs.selection import provider_filter
from partnerapp.receivables import services as receivables
from partnerapp.receivables.models import BankUpload
from partnerapp.smartbusiness.client import DocumentKind
from partnerapp.smartbusiness.describe import describe
from partnerapp.smartbusiness.errors import NotFound, SmartBusinessError

DOCUMENT_WITHS = ["contact", "positions"]


def _provider(call):
    """The provider's answer, or the API's error saying why there is none."""
    try:
        return call()
    except NotFound as exc:
        raise ApiError(404, "not_found", _("The provider has no such document.")) from exc
    except ConnectionUnusable as exc:
        raise ApiError(409, "connection_unusable", str(exc)) from exc
    except PacingWait as exc:
        raise ApiError(503, "provider_busy", str(exc)) from exc
    except SmartBusinessError as exc:
        raise ApiError(502, "provider_error", describe(exc)) from exc


# -- documents ---------------------------------------------------------------------------------


class DocumentList(PartnerView):
    @extend_schema(
        operation_id="connections_documents_list",
        parameters=[r.DocumentQuerySerializer],
        responses=r.DocumentPageSerializer,
    )
    def get(self, request, pk: int):
        """One page of the connection's invoices as the provider lists them now."""
        connection = _connection(self, pk)
        given = r.DocumentQuerySerializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        query = given.validated_data
        spec = {key: str(query[key]) for key in ("status", "date_from", "date_to") if key in query}
        if "contact_id" in query:
            spec["contact_id"] = query["contact_id"]
        page = _provider(
            lambda: connection_call(
                connection,
                lambda api: api.documents(
                    DocumentKind.INVOICE,
                    q=query.get("q") or None,
                    filter=provider_filter(spec, today=timezone.localdate()),
                    limit=query["limit"],
                    offset=query["offset"],
                    with_=["contact"],
                ),
            )
        )
        return Response({"count": page.total, "results": page.items})


class DocumentDetail(PartnerView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int, document_id: int):
        """The invoice as the provider holds it, with its contact and positions."""
        connection = _connection(self, pk)
        document = _provider(
            lambda: connection_call(
                connection,
                lambda api: api.document(DocumentKind.INVOICE, document_id, with_=DOCUMENT_WITHS),
            )
        )
        return Response(document)


# -- connect links -----------------------------------------------------------------------------


class ConnectLinkList(PartnerListView):
    serializer_class = r.ConnectLinkSerializer

    @extend_schema(responses=r.ConnectLinkSerializer(many=True))
    def get(self, request):
        found = ConnectLink.objects.filter(organization=self.organization)
        return self.page(found, r.ConnectLinkSerializer)

    @extend_schema(
        request=r.ConnectLinkCreateSerializer,
        responses={201: r.ConnectLinkCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        """A link to send a client; its `url` is in this answer only (and its replays)."""
        given = r.ConnectLinkCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        link, token = links.link_create(
            user=None, organization_id=self.organization.pk, by_api=True, **given.validated_data
        )
        data = r.ConnectLinkSerializer(link).data
        data["url"] = request.build_absolute_uri(f"/connect/{token}/")
        return Response(data, status=201)


class ConnectLinkDetail(PartnerView):
    @extend_schema(responses=r.ConnectLinkSerializer)
    def get(self, request, pk: int):
        link = get_object_or_404(ConnectLink, organization=self.organization, pk=pk)
        return Response(r.ConnectLinkSerializer(link).data)


# -- schedules ---------------------------------------------------------------------------------


def _schedule(view: PartnerView, pk: int) -> Schedule:
    return get_object_or_404(Schedule, organization=view.organization, pk=pk)


def _schedule_fields(view: PartnerView, data, *, partial: bool = False) -> dict:
    given = r.ScheduleInputSerializer(
        data=data, partial=partial, context={"organization": view.organization}
    )
    given.is_valid(raise_exception=True)
    return dict(given.validated_data)


class ScheduleList(PartnerListView):
    serializer_class = r.ScheduleSerializer

    @extend_schema(responses=r.ScheduleSerializer(many=True))
    def get(self, request):
        found = Schedule.objects.filter(organization=self.organization).order_by("pk")
        return self.page(found, r.ScheduleSerializer)

    @extend_schema(
        request=r.ScheduleInputSerializer,
        responses={201: r.ScheduleSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        """A schedule: one job per cron slot, its parameters checked by the operation."""
        fields = _schedule_fields(self, request.data)
        schedule = Schedule(organization=self.organization, user=None)
        schedule = schedules.schedule_save(schedule=schedule, fields=fields)
        return Response(r.ScheduleSerializer(schedule).data, status=201)


class ScheduleDetail(PartnerView):
    @extend_schema(responses=r.ScheduleSerializer)
    def get(self, request, pk: int):
        return Response(r.ScheduleSerializer(_schedule(self, pk)).data)

    @extend_schema(request=r.ScheduleInputSerializer, responses=r.ScheduleSerializer)
    def patch(self, request, pk: int):
        schedule = _schedule(self, pk)
        fields = _schedule_fields(self, _merged(schedule, request.data), partial=True)
        schedule = schedules.schedule_save(schedule=schedule, fields=fields)
        return Response(r.ScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        schedules.schedule_delete(schedule=_schedule(self, pk))
        return Response(status=204)


def _merged(schedule: Schedule, data) -> dict:
    """The schedule's fields with the request's changes: the parameters are checked
    against the (possibly changed) action as a whole."""
    current = r.ScheduleSerializer(schedule).data
    keys = ("name", "connection", "action", "cron", "time_zone", "selection", "parameters")
    merged = {key: current[key] for key in keys}
    merged["enabled"] = current["enabled"]
    merged.update(data if isinstance(data, dict) else {})
    return merged


# -- payment imports ---------------------------------------------------------------------------


def _upload(view: PartnerView, pk: int) -> BankUpload:
    return get_object_or_404(BankUpload, organization=view.organization, pk=pk)


class PaymentImportList(PartnerListView):
    serializer_class = r.PaymentImportSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(responses=r.PaymentImportSerializer(many=True))
    def get(self, request):
        found = BankUpload.objects.filter(organization=self.organization).order_by("-pk")
        return self.page(found, r.PaymentImportSerializer)

    @extend_schema(
        request={"multipart/form-data": r.PaymentImportUploadSerializer},
        responses={201: r.PaymentImportSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        """A bank file (camt.053/054 or CSV); matching runs in the background: read the
        import until its `state` is `ready`, then confirm the payments you choose."""
        given = r.PaymentImportUploadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload_file = given.validated_data["file"]
        if upload_file.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 10:
            raise ApiError(400, "invalid", _("The file is too large."), {"file": []})
        upload = receivables.upload_receive(
            user=None,
            by_api=True,
            connection=_connection(self, given.validated_data["connection"]),
            data=upload_file.read(),
            filename=upload_file.name or "",
        )
        return Response(r.PaymentImportSerializer(upload).data, status=201)


class PaymentImportDetail(PartnerView):
    @extend_schema(responses=r.PaymentImportReviewSerializer)
    def get(self, request, pk: int):
        """The import with each entry's match: pick `candidates[].id` to confirm."""
        upload = _upload(self, pk)
        data = r.PaymentImportSerializer(upload).data
        rows = upload.transactions.order_by("pk")
        data["entries"] = r.EntrySerializer(rows, many=True).data
        return Response(data)


class PaymentImportConfirm(PartnerView):
    @extend_schema(
        request=r.PaymentConfirmSerializer,
        responses={201: s.JobSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request, pk: int):
        """Record the chosen payments (entry id → invoice id) with one payment job."""
        upload = _upload(self, pk)
        given = r.PaymentConfirmSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        picks = {
            int(entry): int(invoice) for entry, invoice in given.validated_data["picks"].items()
        }
        job = receivables.payments_confirm(upload=upload, user=None, picks=picks, by_api=True)
        if job is None:
            raise ApiError(409, "nothing_to_record", _("Nothing was left to record."))
        return Response(s.JobSerializer(job, context={"counts": {}}).data, status=201)
