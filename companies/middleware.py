"""Request activity: ``User.last_active`` for authenticated requests."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from companies.services import user_touch_throttled


class LastActiveMiddleware:
    """Records activity of authenticated requests, at most once per
    ``LAST_ACTIVE_RESOLUTION`` seconds per user, so reads do not become writes.

    Runs after the view: DRF authenticates (token or session) inside the view
    and sets the user on the underlying HttpRequest, so ``request.user`` is
    the authenticated user by the time the response comes back.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.resolution = timedelta(seconds=getattr(settings, "LAST_ACTIVE_RESOLUTION", 60))

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # The status first: after a 5xx (the database may be down) the lazy
        # session user must not be loaded.
        if response.status_code < 500 and user is not None and user.is_authenticated:
            user_touch_throttled(user=user, now=timezone.now(), resolution=self.resolution)
        return response
