from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from partnerapp.health import views as health_views

urlpatterns = [
    path("", include("partnerapp.dashboard.urls")),
    path("connections/", include("partnerapp.connections.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("health/", include("partnerapp.health.urls")),
    path("metrics", health_views.metrics, name="metrics"),
]
handler400 = "partnerapp.errorpages.bad_request"  # says which limit an oversized request hit

if settings.SANDBOX_ENABLED:
    # The offline provider, reached by the app only over HTTP at SMARTBUSINESS_BASE_URL.
    urlpatterns.append(path("sandbox/", include("partnerapp.sandbox.urls")))
