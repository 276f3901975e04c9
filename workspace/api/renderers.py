"""The browsable API's renderer (development only: ``API_BROWSABLE``, on
with ``DJANGO_DEBUG=1``): DRF's, on a template whose inline style carries the
request's CSP nonce (``workspace/templates/api/browsable.html``)."""

from rest_framework.renderers import BrowsableAPIRenderer as DRFBrowsableAPIRenderer


class BrowsableAPIRenderer(DRFBrowsableAPIRenderer):
    template = "api/browsable.html"
