"""``Cache-Control: no-store`` on every response under ``/api/``.

API responses are per caller (their company's rows, their token) and the
token endpoint's body is a credential: no browser or shared cache may keep
them (docs/api.md, "Caching"). A middleware rather than a DRF hook, so that
the answers built outside DRF (the JSON 404 of unknown paths, errors of the
middlewares inside this one) carry the header too.
"""

from django.utils.cache import patch_cache_control


class ApiNoStoreMiddleware:
    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(self.prefix) and "no-store" not in response.get("Cache-Control", ""):
            # Added to what the view set, if anything; `no-store` alone
            # otherwise (it forbids any cache to keep a copy: nothing to add).
            patch_cache_control(response, no_store=True)
        return response
