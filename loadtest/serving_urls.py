"""The URLconf `make loadtest` serves (``DJANGO_ROOT_URLCONF``): the project's
URLs, plus the serving limit of the message page (loadtest/serving_limit.py)
under /api/, so that the same middleware treats it as an API response. Never
the production URLconf."""

from django.urls import include, path

from loadtest.serving_limit import LIMIT_ROUTE, channel_messages_limit

urlpatterns = [
    path(LIMIT_ROUTE, channel_messages_limit, name="loadtest-limit-messages"),
    path("", include("workspace.urls")),
]
