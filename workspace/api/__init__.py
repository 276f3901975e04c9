"""Cross-app pieces of the REST API: errors, fields, pagination, permissions,
schema helpers. The routes live in workspace/api_urls.py; each app has its own
serializers.py, selectors.py and views.py (docs/api.md)."""
