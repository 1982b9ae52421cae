"""Site-wide error pages that say what went wrong (handler400 in urls.py).

Django answers a request body over DATA_UPLOAD_MAX_MEMORY_SIZE, or with more than
DATA_UPLOAD_MAX_NUMBER_FIELDS fields, with a bare 400. People who pasted a huge
message or selected too many invoices deserve to know which limit they hit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    status, title, message = 400, _("Bad request"), _("The request could not be understood.")
    if isinstance(exception, RequestDataTooBig):
        status, title = 413, _("Request too large")
        message = _(
            "What you sent is larger than partnerapp accepts (%(limit)s). "
            "Shorten the message or select fewer invoices, then try again."
        ) % {"limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    elif isinstance(exception, TooManyFieldsSent):
        title = _("Too many fields")
        message = _("The form had more than %(limit)d fields. Select fewer invoices at once.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    context = {"title": title, "message": message, "request_id": _request_id(request)}
    # No RequestContext: the request's body is what failed, so nothing may read it again.
    return HttpResponse(render_to_string("error.html", context), status=status)


def _request_id(request: HttpRequest) -> str:
    return getattr(request, "request_id", "")
