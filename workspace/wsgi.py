import os

from django.core.wsgi import get_wsgi_application

from workspace.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workspace.settings")

# OpenTelemetry, when the OTEL_* variables ask for it (workspace/tracing.py):
# before the middleware chain is built. gunicorn's post_fork calls it first.
configure_tracing()
application = get_wsgi_application()
