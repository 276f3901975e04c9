"""OpenAPI helpers: the error responses every operation documents, and a
postprocessing hook that gives ids and path parameters their exact formats.

Every status code an operation can return is listed on it (docs/api.md):
400 with the operation's own error component (its input fields, each a list of
messages; ``non_field_errors``; ``detail`` for a malformed body), 401 without
or with bad credentials, 403, 404, 409, 413 and 415 where they apply, and
503 (with ``Retry-After``) on every operation: the database is unavailable or
a statement hit its timeout (workspace/errors.py).
"""

import copy

from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from workspace.api.fields import MAX_ID

MESSAGES = {"type": "array", "items": {"type": "string"}}


@extend_schema_field(MESSAGES)
class _Messages(serializers.Field):
    pass


@extend_schema_field({"anyOf": [MESSAGES, {"type": "object", "additionalProperties": MESSAGES}]})
class _ListMessages(serializers.Field):
    """Errors of a list input: messages, or messages per item index."""


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")

    class Meta:
        ref_name = "Error"


def validation_error(name: str, *fields: str, lists: tuple[str, ...] = ()):
    """The 400 (or 409) body of one operation: ``{field: [messages]}`` for its
    inputs, ``non_field_errors`` for the body as a whole, ``detail`` when the
    body is not JSON at all."""
    members = {field: _Messages(required=False) for field in fields}
    members.update({field: _ListMessages(required=False) for field in lists})
    members["non_field_errors"] = _Messages(required=False)
    members["detail"] = serializers.CharField(required=False)
    return inline_serializer(name=name, fields=members)


DESCRIPTIONS = {
    400: "Invalid input: a list of messages per offending field (`non_field_errors` for the "
    "body as a whole, `detail` when the body is not valid JSON).",
    401: "No credentials, or invalid ones (`WWW-Authenticate: Token`).",
    403: "Authenticated, but not allowed to do this (or a platform account without a company).",
    404: "No such object in your company (a missing id and another company's id look the same).",
    409: "Conflicts with the current state (a duplicate, or a state that does not allow it).",
    413: "The body is larger than the upload limit (`DATA_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MiB).",
    415: "The body is not `application/json`.",
    503: "The database is unavailable or busy (a lock or statement timeout): retry after `Retry-After` seconds.",
}


def responses(
    ok: dict,
    *,
    bad_request=None,
    conflict=None,
    not_found: str | bool = False,
    forbidden: str | bool = True,
    body: bool = False,
    public: bool = False,
) -> dict:
    """The ``responses`` of an operation: ``ok`` (status -> serializer or
    OpenApiResponse) plus every error it can return."""
    result = dict(ok)
    if bad_request is not None:
        result[400] = OpenApiResponse(bad_request, description=DESCRIPTIONS[400])
    if not public:
        result[401] = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[401])
    if forbidden and not public:
        text = f"{forbidden} {DESCRIPTIONS[403]}" if isinstance(forbidden, str) else DESCRIPTIONS[403]
        result[403] = OpenApiResponse(ErrorSerializer, description=text)
    if not_found:
        text = DESCRIPTIONS[404] if not_found is True else f"{not_found} {DESCRIPTIONS[404]}"
        result[404] = OpenApiResponse(ErrorSerializer, description=text)
    if conflict is not None:
        result[409] = OpenApiResponse(conflict, description=DESCRIPTIONS[409])
    if body:
        result[413] = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[413])
        result[415] = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[415])
    return result


# Every operation can answer 503 (added by ``postprocess``, so that no view can
# forget it).
UNAVAILABLE = {
    "description": DESCRIPTIONS[503],
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


# Names of integer properties that hold ids (the row's own or a reference).
ID_PROPERTIES = {
    "id",
    "user",
    "author",
    "channel",
    "parent",
    "organizer",
    "created_by",
    "company",
    "message",
}
INT64_ID = {"format": "int64", "minimum": 1, "maximum": MAX_ID}


def _is_integer(schema: dict) -> bool:
    return schema.get("type") == "integer"


def postprocess(result, generator, request, public):
    """Ids everywhere: ``int64`` in 1..2**63-1 (path parameters, and id
    properties of the components); the page number starts at 1; a 503 carries
    ``Retry-After``."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("503", copy.deepcopy(UNAVAILABLE))
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and _is_integer(schema):
                    schema.update(INT64_ID)
                elif parameter.get("in") == "query" and parameter["name"] == "page":
                    schema["minimum"] = 1
                elif parameter.get("in") == "path" and parameter["name"] == "emoji":
                    schema.update(minLength=1, maxLength=64)
    for component in result.get("components", {}).get("schemas", {}).values():
        for name, schema in component.get("properties", {}).items():
            if _is_integer(schema) and name in ID_PROPERTIES:
                for key, value in INT64_ID.items():
                    schema.setdefault(key, value)
            elif schema.get("type") == "array" and _is_integer(schema.get("items", {})):
                if name in {"participants", "members"}:
                    for key, value in INT64_ID.items():
                        schema["items"].setdefault(key, value)
    return result
