from django.contrib import admin
from django.urls import include, path

from workspace.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("workspace.api_urls")),
    path("healthz", healthz, name="healthz"),
]
