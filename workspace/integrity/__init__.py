"""Cross-app relational-integrity tooling (docs/integrity.md).

- ``lineage``: the FK graph from ``Company`` down, read from the models.
- ``introspect``: what the live database actually enforces (FK actions,
  constraints), on PostgreSQL and SQLite.
- ``audit``: set-based scans for orphans, FK-action drift and stale lifecycle
  fields, and their repair (``manage.py integrity_audit [--fix]``).
- ``drill``: the live cascade drill (build a tenant, delete it through every
  path, count what is left) inside a rolled-back transaction.
- ``report``: ``docs/RELATIONAL_INTEGRITY_REPORT.md`` (``manage.py
  integrity_report [--check]``).
"""
