from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "companies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from companies import signals
        from workspace import login_throttle

        signals.connect()
        # The login throttle's store must be shared by the workers in production.
        checks.register(login_throttle.check_shared_cache, checks.Tags.security, deploy=True)

        # knox registers an admin for its tokens that lists every tenant's
        # tokens and shows a new token in clear: tokens are managed through the
        # API (logout, logout everywhere) and revoked by a password change or a
        # deactivation, not in the admin (docs/api.md, "Authentication").
        from django.contrib import admin
        from knox.models import AuthToken

        if admin.site.is_registered(AuthToken):
            admin.site.unregister(AuthToken)
