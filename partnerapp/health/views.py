from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from partnerapp.health.metrics import PartnerappCollector
from partnerapp.health.services import CHECKS, health_report


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Every check (or those named by `?check=`); 200 when all pass, 503 when one fails."""
    names = request.GET.getlist("check") or list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        return JsonResponse({"error": f"unknown check: {', '.join(unknown)}"}, status=400)
    healthy, body = health_report(names)
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. Every tenant's figures: a bearer token, or loopback in dev."""
    if not metrics_allowed(request):
        return HttpResponse(status=403)
    registry = CollectorRegistry()
    registry.register(PartnerappCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def metrics_allowed(request: HttpRequest) -> bool:
    """With METRICS_TOKEN set only that bearer token opens /metrics, from any address,
    loopback too; without one, only loopback does, and only in development."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and constant_time_compare(given.strip(), token)
    loopback = request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"}
    return not settings.PRODUCTION and loopback
