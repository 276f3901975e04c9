"""``Cache-Control: no-store`` on every response under ``/api/``.

API responses are per caller (their company's rows, their token) and the
token endpoint's body is a credential: no browser or shared cache may keep
them (docs/api.md, "Caching"). A middleware rather than a DRF hook, so that
the answers built outside DRF (the JSON 404 of unknown paths, errors of the
middlewares inside this one) carry the header too.
"""

from django.utils.cache import add_never_cache_headers


class ApiNoStoreMiddleware:
    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(self.prefix):
            # max-age=0, no-cache, no-store, must-revalidate, private (+ Expires).
            add_never_cache_headers(response)
        return response
