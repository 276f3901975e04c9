from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The project package as an app: it has no models, only the cross-app
    integrity commands (workspace/management/commands, docs/integrity.md)."""

    name = "workspace"
    verbose_name = "Workspace integrity tooling"
    default_auto_field = "django.db.models.BigAutoField"
