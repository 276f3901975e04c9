from django.contrib import admin
from django.urls import include, path

from workspace.front import home
from workspace.health import healthz
from workspace.integrity.admin_views import integrity_admin_view
from workspace.metrics import metrics_view

urlpatterns = [
    path("", home, name="home"),
    # Before the admin's own patterns (docs/integrity.md): staff only.
    path("admin/integrity/", integrity_admin_view(), name="admin-integrity"),
    path("admin/", admin.site.urls),
    path("api/", include("workspace.api_urls")),
    path("healthz", healthz, name="healthz"),
    # Prometheus metrics: bearer METRICS_TOKEN (workspace/metrics.py).
    path("metrics", metrics_view, name="metrics"),
]
