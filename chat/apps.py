from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat import integrity, selectors, signals
        from companies.hooks import provide_retention_preview
        from workspace.db.derived import register

        signals.connect()
        register(*integrity.DERIVED_FIELDS)
        provide_retention_preview(selectors.retention_preview)
