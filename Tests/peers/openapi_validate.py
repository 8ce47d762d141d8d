#!/usr/bin/env python3
"""Validates answers of a running server against docs/openapi.yaml: each answer must be one the document gives for
its route and status, with a body that validates against the schema of that status and content type (OpenAPI 3.1
schemas, checked by openapi-schema-validator on jsonschema, the `$ref`s resolved inside the document).

    openapi_validate.py DOC METHOD PATH STATUS FILE [CONTENT-TYPE]   one answer (PATH as documented: /api/v1/alarms/{name})
    openapi_validate.py DOC --samples SAMPLES.json                   many: [{"method", "path", "status", "contentType", "file"}]

Prints one line per answer (`ok …` or `FAIL …: why`) and exits 1 when one fails. An empty body must be documented
without content (204); `application/x-ndjson` is validated line by line (empty lines are heartbeats); other
non-JSON types (`text/html`) must only be documented.
"""
import json
import sys

import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:plumb:openapi"


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class Document:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.spec = yaml.safe_load(f)
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOC_URI, resource)

    def resolve(self, node):
        """Follows a `$ref` to a component that is not a schema (a response)."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def response(self, method, path, status):
        operation = self.spec.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            raise LookupError(f"the document has no {method} {path}")
        responses = operation.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return key, self.resolve(responses[key])
        raise LookupError(f"{method} {path} documents no {status} answer (it has {', '.join(sorted(responses))})")

    def validate(self, method, path, status, content_type, body):
        key, response = self.response(method, path, status)
        content = response.get("content", {})
        media = (content_type or "").split(";")[0].strip().lower()
        if not body:
            if content and not media:
                raise ValueError(f"an empty answer, but {key} documents {', '.join(content)}")
            return
        if media not in content:
            raise ValueError(f"answered {media or 'no content type'}, but {key} documents {', '.join(content) or 'no body'}")
        schema = content[media].get("schema")
        if schema is None:
            return
        ref = {"$ref": f"{DOC_URI}#/" + pointer("paths", path, method.lower(), "responses", key, "content", media, "schema")}
        if "$ref" in self.spec["paths"][path][method.lower()]["responses"][key]:
            ref = {"$ref": f"{DOC_URI}#" + self.spec["paths"][path][method.lower()]["responses"][key]["$ref"].lstrip("#")
                   + "/" + pointer("content", media, "schema")}
        validator = OAS31Validator(ref, registry=self.registry, format_checker=OAS31Validator.FORMAT_CHECKER)
        if media == "application/json":
            instances = [json.loads(body)]
        elif media == "application/x-ndjson":
            instances = [json.loads(line) for line in body.decode("utf-8").split("\n") if line.strip()]
        else:
            return
        for instance in instances:
            errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
            if errors:
                e = errors[0]
                where = "/".join(str(p) for p in e.absolute_path) or "(root)"
                raise ValueError(f"{where}: {e.message} ({len(errors)} problem{'s' if len(errors) > 1 else ''})")


def main(argv):
    if len(argv) >= 3 and argv[2] == "--samples":
        with open(argv[3], encoding="utf-8") as f:
            samples = json.load(f)
    elif len(argv) in (6, 7):
        samples = [{"method": argv[2], "path": argv[3], "status": int(argv[4]), "file": argv[5],
                    "contentType": argv[6] if len(argv) == 7 else "application/json"}]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    document = Document(argv[1])
    failed = 0
    for s in samples:
        with open(s["file"], "rb") as f:
            body = f.read()
        what = f"{s['method']} {s['path']} {s['status']}"
        try:
            document.validate(s["method"], s["path"], s["status"], s.get("contentType"), body)
            print(f"ok {what}")
        except (LookupError, ValueError) as error:
            failed += 1
            print(f"FAIL {what}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
