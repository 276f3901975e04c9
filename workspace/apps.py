from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The project package as an app: it has no models, only the cross-app
    integrity commands (workspace/management/commands, docs/integrity.md)."""

    name = "workspace"
    verbose_name = "Workspace integrity tooling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Runs after django.contrib.admin's autodiscover (earlier in
        # INSTALLED_APPS): admins registered by other packages (groups,
        # tokens) get the tenant scoping of workspace/adminkit.py too.
        from django.contrib import admin

        from workspace.adminkit import scope_admin_site

        scope_admin_site(admin.site)

        # <app>.tasks modules: their periodic jobs register (workspace/jobs.py).
        from workspace.jobs import load_task_modules

        load_task_modules()
