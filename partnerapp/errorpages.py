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
from django.utils.translation import get_language
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


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Our own 404 in the reader's language: it never lists the site's URL patterns, and
    says the same for a page that does not exist as for another user's object."""
    context = {
        "title": _("Page not found"),
        "message": _(
            "There is nothing here, or it is not yours to see. Check the address, or start "
            "again from the overview."
        ),
        "request_id": _request_id(request),
        "language": get_language(),
    }
    return HttpResponse(render_to_string("error.html", context), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Our own 500: what happened is logged with the request id shown here."""
    context = {
        "title": _("Something went wrong"),
        "message": _(
            "partnerapp could not finish this request. Nothing you sent is lost: try again "
            "in a moment, and quote the reference below if it keeps happening."
        ),
        "request_id": _request_id(request),
        "language": get_language(),
    }
    return HttpResponse(render_to_string("error.html", context), status=500)


def _request_id(request: HttpRequest) -> str:
    return getattr(request, "request_id", "")
