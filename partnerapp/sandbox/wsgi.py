"""The WSGI application `sandbox_serve` runs under gunicorn: the same Django project,
URLconf and views as partnerapp.wsgi, with a lighter middleware stack for the API.

A provider API call (a path under /sandbox/v2/, the consent page excepted) needs none
of the site's middleware: no session, user, CSRF token, language, messages, audit
context, CSP or static files; and partnerapp's access line per request was the
largest of them (settings.LOG_LEVEL still applies to everything the sandbox logs).
Measured on the send-by-email benchmark, that stack cost about as much CPU as the
view. So API calls go through a Django handler built from `API_MIDDLEWARE`, which
keeps the security headers and ProviderApiMiddleware (the provider's headers on every
answer, its JSON errors, the log line of a crash), and resolves the path among the
sandbox's URLs alone (api_urls.py); every other path (the consent and
owner pages, partnerapp itself) through the full settings.MIDDLEWARE.

With SANDBOX_PROFILE_DIR set, both run under cProfile (profiling.py).
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

from partnerapp.sandbox import profiling

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerapp.settings")

API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "partnerapp.sandbox.middleware.ProviderApiMiddleware",
]
# The consent page is a page: the owner's session, CSRF, language.
API_PAGES = ("auth/authorize",)


API_URLCONF = "partnerapp.sandbox.api_urls"


class ProviderApiHandler(WSGIHandler):
    """Django's WSGI handler with `API_MIDDLEWARE` instead of settings.MIDDLEWARE, and
    the sandbox's URLs alone (api_urls.py)."""

    def get_response(self, request):
        request.urlconf = API_URLCONF  # Django's per-request URLconf
        return super().get_response(request)

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE alone. This runs once, while
        # the worker loads the application and before it serves anything.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware


class SandboxApplication:
    """Routes each request to the API handler or the site's, by path."""

    def __init__(self) -> None:
        self.site = get_wsgi_application()  # sets Django up: models can be imported now
        self.api = ProviderApiHandler()
        from partnerapp.sandbox.middleware import API_PREFIX

        self.api_prefix = API_PREFIX
        self.pages = tuple(API_PREFIX + page for page in API_PAGES)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        is_api = path.startswith(self.api_prefix) and not path.startswith(self.pages)
        return (self.api if is_api else self.site)(environ, start_response)


application = profiling.wrap(SandboxApplication())
