"""URL converter for ids: 1..2**63-1. Anything else does not match the route
and ends in the API's JSON 404 (workspace/api_urls.py), instead of an
overflow in the database driver."""

from workspace.api.fields import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)
