"""The partner API's views: parse, scope to the key's organization, call one service.

Every view is a `PartnerView`: key authentication, the read/write check, the per-key
rate limit with its headers on every answer, and one `api.call` audit event per call.
Another organization's ids read exactly like missing ones (404).
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from partnerapp.api import serializers as s
from partnerapp.api.errors import ApiError
from partnerapp.api.idempotency import idempotent
from partnerapp.api.keys import api_key_used
from partnerapp.api.throttling import rate_headers
from partnerapp.connections.models import Connection
from partnerapp.jobs import export
from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.preview import job_preview
from partnerapp.organizations import audit

ITEMS_PAGE_MAX = 200
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Retry-safe POST: the same key and body answer the first result for 24 h.",
)


class PartnerView(APIView):
    """The base of every API view (see the module's docstring)."""

    @property
    def organization(self):
        return self.request.user.organization

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in rate_headers(request._request).items():
            response[name] = value
        key = getattr(request._request, "api_key", None)
        if key is not None:
            self._record_call(request, key, response.status_code)
        return response

    def _record_call(self, request, key, status: int) -> None:
        ip = audit._client_ip(request._request)
        api_key_used(key, ip=ip)
        summary = {"method": request.method, "path": request.path, "status": status}
        audit.record("api.call", organization=key.organization_id, obj=key, after=summary)


class PartnerListView(PartnerView, generics.GenericAPIView):
    """A list paged with `limit` and `offset` (LimitOffsetPagination)."""

    def page(self, queryset, serializer_class, **context):
        rows = self.paginate_queryset(queryset)
        serializer = serializer_class(rows, many=True, context=context)
        return self.get_paginated_response(serializer.data)


# -- connections ----------------------------------------------------------------------------


def _connection(view: PartnerView, pk: int) -> Connection:
    return get_object_or_404(Connection, organization=view.organization, pk=pk)


class ConnectionList(PartnerListView):
    serializer_class = s.ConnectionSerializer

    @extend_schema(responses=s.ConnectionSerializer(many=True))
    def get(self, request):
        connections = Connection.objects.filter(organization=self.organization).order_by("pk")
        return self.page(connections, s.ConnectionSerializer)


class ConnectionDetail(PartnerView):
    @extend_schema(responses=s.ConnectionSerializer)
    def get(self, request, pk: int):
        return Response(s.ConnectionSerializer(_connection(self, pk)).data)


class ConnectionHealth(PartnerView):
    @extend_schema(responses=s.ConnectionHealthSerializer)
    def get(self, request, pk: int):
        return Response(s.ConnectionHealthSerializer(_connection(self, pk)).data)


# -- jobs -------------------------------------------------------------------------------------


def _job(view: PartnerView, pk: int) -> BatchJob:
    return get_object_or_404(jobs.jobs_for(view.organization), pk=pk)


def _job_data(job: BatchJob) -> dict:
    return s.JobSerializer(job, context={"counts": {job.pk: jobs.job_counts(job)}}).data


class JobList(PartnerListView):
    serializer_class = s.JobSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=BatchJob.Status.values),
            OpenApiParameter("action", OpenApiTypes.STR),
            OpenApiParameter("connection", OpenApiTypes.INT),
        ],
        responses=s.JobSerializer(many=True),
    )
    def get(self, request):
        selected = jobs.jobs_for(self.organization).order_by("-created_at", "-pk")
        for name in ("status", "action"):
            if request.query_params.get(name):
                selected = selected.filter(**{name: request.query_params[name]})
        connection = request.query_params.get("connection", "")
        if connection:
            if not connection.isdigit():
                raise ApiError(
                    400, "invalid", _("Not a number."), {"connection": [_("Not a number.")]}
                )
            selected = selected.filter(connection_id=int(connection))
        rows = self.paginate_queryset(selected)
        counts = jobs.job_counts_many([job.pk for job in rows])
        data = s.JobSerializer(rows, many=True, context={"counts": counts}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=s.JobCreateSerializer,
        responses={201: s.JobSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        """Create a job (a draft: its preview is ready once `prepared_at` is set; confirm
        it then, or send `auto_start: true` to start without a preview)."""
        given = s.JobCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        job = jobs.job_create(
            user=None,
            by_api=True,
            connection=_connection(self, data["connection"]),
            action=data["action"],
            selection_spec=dict(data["selection"]),
            parameters=data["parameters"],
            auto_start=data["auto_start"],
            name=data["name"],
        )
        return Response(_job_data(job), status=201)


class JobDetail(PartnerView):
    @extend_schema(responses=s.JobSerializer)
    def get(self, request, pk: int):
        return Response(_job_data(_job(self, pk)))

    @extend_schema(request=s.JobRenameSerializer, responses=s.JobSerializer)
    def patch(self, request, pk: int):
        """Rename the job (`name` is all a job lets you change); an empty name brings
        back the one partnerapp makes."""
        given = s.JobRenameSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = jobs.job_rename(
            user=None, by_api=True, job=_job(self, pk), name=given.validated_data["name"]
        )
        return Response(_job_data(job))


class JobPreview(PartnerView):
    @extend_schema(responses=s.PreviewSerializer)
    def get(self, request, pk: int):
        """What confirming would do now; empty until the job is prepared."""
        preview = job_preview(_job(self, pk))
        data = {
            "counts": preview.counts,
            "eta_seconds": preview.eta_seconds,
            "skipped": s.JobItemSerializer(preview.skipped, many=True).data,
        }
        return Response(data)


class JobItems(PartnerView):
    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=JobItem.State.values),
            OpenApiParameter("q", OpenApiTypes.STR, description="document number, e-mail, name"),
            OpenApiParameter("after", OpenApiTypes.INT, description="the last id of a page"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {ITEMS_PAGE_MAX}"),
        ],
        responses=s.ItemsPageSerializer,
    )
    def get(self, request, pk: int):
        """The job's items, paged by id: pass the page's `next_after` as `after`."""
        job = _job(self, pk)
        params = s.ItemsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        page = jobs.job_items_page(
            job,
            state=query.get("state", ""),
            search=query.get("q", ""),
            after=query.get("after"),
            size=query.get("limit", 50),
        )
        data = {
            "results": s.JobItemSerializer(page.items, many=True).data,
            "has_next": page.has_next,
            "next_after": page.last_pk if page.has_next else None,
        }
        return Response(data)


CONTROLS = {
    "confirm": lambda job: jobs.job_start(job=job),
    "pause": lambda job: jobs.job_pause(job=job),
    "resume": lambda job: jobs.job_resume(job=job),
    "cancel": lambda job: jobs.job_cancel(job=job),
    "retry-failed": lambda job: jobs.job_retry_failed(job=job),
    "resend-uncertain": lambda job: jobs.job_resend_uncertain(job=job, confirmed=True),
}


class JobControl(PartnerView):
    command = ""  # set per route (as_view(command=...))

    @extend_schema(
        request=s.ConfirmSerializer,
        responses=s.ControlResultSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request, pk: int):
        """Control the job; `{"confirm": true}` says you mean it. 409 `job_state` when
        the job's state allows nothing (e.g. pausing a finished job)."""
        given = s.ConfirmSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if not given.validated_data["confirm"]:
            message = _("Send confirm: true to %(command)s the job.") % {"command": self.command}
            raise ApiError(400, "confirm_required", message, {"confirm": [message]})
        job = _job(self, pk)
        changed = CONTROLS[self.command](job)
        if not changed:
            message = _("Nothing changed: the job is %(s)s.") % {"s": job.status}
            raise ApiError(409, "job_state", message)
        job.refresh_from_db()
        return Response({"changed": int(changed), "job": _job_data(job)})


class JobCsv(PartnerView):
    def perform_content_negotiation(self, request, force=False):
        # The file is streamed as it is; whatever the Accept header, errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        """Every item's outcome as CSV (UTF-8, one row per item)."""
        job = _job(self, pk)
        audit.record(
            "job.export", organization=job.organization_id, obj=job, after={"format": "csv"}
        )
        response = StreamingHttpResponse(export.csv_lines(job), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{export.file_name(job)}"'
        return response
