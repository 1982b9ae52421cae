from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
