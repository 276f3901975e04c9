"""The front door: a small landing page at ``/`` (docs/operations.md).

What this is and where to go next: the admin, its integrity page, the API
docs and schema, the health check. With ``DEBUG`` on it also shows the demo
logins that ``make run`` (``seed_demo``) creates; in production (``DEBUG``
off) those hints are left out. A plain template with a static stylesheet: no
script, no inline style, nothing from a CDN (the Content Security Policy can
stay strict).
"""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request):
    return render(
        request,
        "workspace/home.html",
        {
            "debug": settings.DEBUG,
            "links": [
                ("Admin", "/admin/", "inspect every table: search, filters, what a delete removes"),
                (
                    "Integrity",
                    "/admin/integrity/",
                    "the lineage drawn, audit findings, per-tenant counts, the cascade drill (staff)",
                ),
                ("API docs", "/api/docs/", "interactive documentation of the REST API (Swagger UI)"),
                ("API schema", "/api/schema/", "the OpenAPI document"),
                ("Health check", "/healthz", "200 when the database is reachable and migrated, 503 otherwise"),
            ],
            "origin": request.build_absolute_uri("/").rstrip("/"),
        },
    )
