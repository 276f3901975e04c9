"""The API's renderers.

- ``JSONRenderer``: DRF's JSON, written by orjson (docs/PERFORMANCE.md,
  "Compiled list queries"): the same bytes as DRF's renderer for the
  project's data, several times faster on a list page.
- ``BrowsableAPIRenderer`` (development only: ``API_BROWSABLE``, on with
  ``DJANGO_DEBUG=1``): DRF's, on a template whose inline style carries the
  request's CSP nonce (``workspace/templates/api/browsable.html``).
"""

import orjson
from rest_framework import renderers
from rest_framework.renderers import BrowsableAPIRenderer as DRFBrowsableAPIRenderer
from rest_framework.utils.encoders import JSONEncoder

_encoder = JSONEncoder()


class JSONRenderer(renderers.JSONRenderer):
    """DRF's ``JSONRenderer`` with orjson doing the encoding, for compact
    output (DRF's settings here: ``UNICODE_JSON``, ``COMPACT_JSON``). What
    orjson does not know (lazy strings, ``Decimal``, querysets...) goes
    through DRF's own encoder, as before; date-times are written as DRF
    writes them (``isoformat()``, ``Z`` for UTC); U+2028 and U+2029 are
    escaped as DRF escapes them; a float NaN or infinity (the API has none)
    would be ``null`` where DRF refuses it. Indented JSON (``Accept:
    application/json; indent=4``), or other settings, stay DRF's."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type or "", renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        body = orjson.dumps(data, default=_encoder.default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:  # JSON allows them, JavaScript did not
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body


class BrowsableAPIRenderer(DRFBrowsableAPIRenderer):
    template = "api/browsable.html"
