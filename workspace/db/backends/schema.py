"""Schema-editor mixin that mirrors the ORM delete policy into FK constraints.

Applied to every FK that ``migrate`` creates or alters, for every app
(contrib.auth, admin and knox's API tokens included), so a new or altered foreign key
cannot lose its database action: there is no per-field step to forget.
"""

from workspace.db.on_delete import expected_db_action


class MirrorOnDeleteSchemaMixin:
    def _create_on_delete_sql(self, model, field):
        action = expected_db_action(field)
        if action == "NO ACTION":
            return ""
        return self.connection.ops.fk_on_delete_sql(action)

    def _field_should_be_altered(self, old_field, new_field, ignore=None):
        # Django treats a change of a Python-level on_delete as schema-neutral;
        # here it changes the constraint, so the FK must be rebuilt.
        if (
            old_field.remote_field
            and new_field.remote_field
            and not new_field.many_to_many
            and expected_db_action(old_field) != expected_db_action(new_field)
        ):
            return True
        return super()._field_should_be_altered(old_field, new_field, ignore=ignore)
