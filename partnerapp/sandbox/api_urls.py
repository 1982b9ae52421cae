"""The URLconf of provider API calls when `sandbox_serve` serves them (wsgi.py): the
sandbox's own URLs, at the same paths and under the same namespace, without the site's
patterns that each call was matched against first (a fifth of a send's CPU went into
finding its view)."""

from django.urls import include, path

urlpatterns = [path("sandbox/", include("partnerapp.sandbox.urls"))]
