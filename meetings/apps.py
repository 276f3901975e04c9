from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from meetings import integrity, signals
        from workspace.db.derived import register

        signals.connect()
        register(*integrity.DERIVED_FIELDS)
