from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from partnerapp.health import views as health_views
from partnerapp.organizations import views as organization_views


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links; send them to the SVG mark.
    Looked up per request (not at import): the static name carries the file's hash."""

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("", include("partnerapp.dashboard.urls")),
    path("connections/", include("partnerapp.connections.urls")),
    path("connect/", include("partnerapp.connections.link_urls")),  # a client's connect link
    path("organization/", include("partnerapp.organizations.urls")),
    path("organization/webhooks/", include("partnerapp.webhooks.urls")),
    path("organization/api-keys/", include("partnerapp.api.key_urls")),
    path("api/v1/", include("partnerapp.api.urls")),  # the partner API, authenticated by keys
    path("accounts/", include("allauth.urls")),
    # Django's set_language, also keeping the choice for the member's e-mails.
    path("i18n/setlang/", organization_views.language_set, name="set_language"),
    path("admin/", admin.site.urls),
    path("health/", include("partnerapp.health.urls")),
    path("metrics", health_views.metrics, name="metrics"),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
]
handler400 = "partnerapp.errorpages.bad_request"  # says which limit an oversized request hit
handler404 = "partnerapp.errorpages.not_found"  # never the URL list, in the reader's language
handler500 = "partnerapp.errorpages.server_error"

if settings.SANDBOX_ENABLED:
    # The offline provider, reached by the app only over HTTP at SMARTBUSINESS_BASE_URL.
    urlpatterns.append(path("sandbox/", include("partnerapp.sandbox.urls")))
