"""Calls the Lambda examples (examples/lambda) through Plumb's Lambda API with the real aws CLI, unmodified, and
prints one JSON object: per call, the CLI's exit status, its answer and the payload it wrote.

    lambda_examples.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE

- comments-create, with API Gateway's proxy event of a POST: a scored comment (201 in the payload).
- comments-list, with a proxy event's query string: the page of comments.
- findings, InvocationType Event, with an SNS event whose message is not a finding: 202, then the handler fails,
  no retries (the example's maximum_retry_attempts is 0), and the event goes to the on-failure topic.
"""
import json
import os
import subprocess
import sys
import tempfile

endpoint, credentials, config = sys.argv[1:4]
environment = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=credentials, AWS_CONFIG_FILE=config)
for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
    environment.pop(name, None)


def invoke(function, payload, *options):
    with tempfile.NamedTemporaryFile(suffix=".json") as response:
        cli = subprocess.run(
            [sys.executable, "-m", "awscli", "--profile", "plumb", "--endpoint-url", endpoint, "lambda", "invoke",
             "--function-name", function, "--payload", json.dumps(payload), *options, response.name],
            capture_output=True, text=True, timeout=60, env=environment)
        written = open(response.name).read()
    return {"status": cli.returncode, "answer": json.loads(cli.stdout or "{}"),
            "payload": json.loads(written) if written else None, "stderr": cli.stderr[-500:]}


out = {
    "create": invoke("comments-create", {"httpMethod": "POST", "path": "/comments",
                                         "body": json.dumps({"content": "The aws CLI works nicely, great job"})}),
    "list": invoke("comments-list", {"httpMethod": "GET", "path": "/comments",
                                     "queryStringParameters": {"limit": "50"}}),
    "event": invoke("findings", {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "not a finding"}}]},
                    "--invocation-type", "Event"),
}
print(json.dumps(out))
