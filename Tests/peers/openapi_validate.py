#!/usr/bin/env python3
"""Validates one answer of a running server against the OpenAPI document: the schema the document gives for that
operation and status, checked with openapi-schema-validator (OpenAPI 3.1's dialect of JSON Schema 2020-12), with
`$ref`s into the document resolved. A second reader of the contract, independent of the Swift types that wrote it.

    openapi_validate.py DOC METHOD PATH STATUS FILE

PATH is the document's form (`/api/v1/topics/{topic}`); FILE holds the answer's body. A status the operation does
not document fails; so does a body for an answer documented without content, or a body that is not JSON where the
document says application/json. Exit 0 when valid; 1 with the reasons on stderr otherwise.
"""
import json
import sys

import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    doc_path, method, path, status, body_path = sys.argv[1:]
    with open(doc_path, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    with open(body_path, "rb") as f:
        body = f.read()
    operation = document.get("paths", {}).get(path, {}).get(method.lower())
    if operation is None:
        fail(f"{method} {path}: not in the document")
    responses = operation.get("responses", {})
    response = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
    if response is None:
        fail(f"{method} {path}: status {status} is not documented (documented: {sorted(responses)})")
    while "$ref" in response:
        name = response["$ref"].split("/")[-1]
        response = document["components"]["responses"][name]
    content = response.get("content")
    if not content:
        if body.strip():
            fail(f"{method} {path} {status}: documented without content, answered {body[:200]!r}")
        return
    media = content.get("application/json")
    if media is None:
        return  # text/html, text/plain: nothing to check against a JSON schema
    try:
        instance = json.loads(body)
    except ValueError as error:
        fail(f"{method} {path} {status}: not JSON ({error}): {body[:200]!r}")
    # The whole document is the resource the schema's `#/components/...` references resolve in.
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:plumb:openapi", resource)
    validator = OAS31Validator(_rooted(media.get("schema", {})), registry=registry, format_checker=OAS31Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        for error in errors[:20]:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            print(f"{method} {path} {status}: {where}: {error.message}", file=sys.stderr)
        sys.exit(1)


def _rooted(schema):
    """The schema with its `#/components/...` references pointed into the document's resource."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                out[key] = "urn:plumb:openapi" + value
            else:
                out[key] = _rooted(value)
        return out
    if isinstance(schema, list):
        return [_rooted(item) for item in schema]
    return schema


if __name__ == "__main__":
    main()
