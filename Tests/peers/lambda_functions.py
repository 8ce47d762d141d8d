"""Makes, changes and deletes Lambda functions through Plumb's Lambda API with real boto3 and the real aws CLI, and
prints one JSON object of what each call answered.

    lambda_functions.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE WORK_DIR
"""
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

from aws_common import error_code, once, session

endpoint, credentials, config, work = sys.argv[1:5]
lam = session(credentials, config).client("lambda", endpoint_url=endpoint, config=once())
ROLE = "arn:aws:iam::000000000000:role/nobody"


def package(version, extra=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", "import os\n\n\ndef handler(event, context):\n"
                             f"    return {{'version': {version}, 'mode': os.environ.get('MODE'), 'event': event}}\n")
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    return buffer.getvalue()


def invoke(name, payload):
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return {"status": answer["StatusCode"], "error": answer.get("FunctionError"),
            "payload": json.loads(answer["Payload"].read() or b"null")}


def refused(call):
    return error_code(call)


out = {}
v1 = package(1)
made = lam.create_function(FunctionName="made", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                           Code={"ZipFile": v1}, Environment={"Variables": {"MODE": "a"}}, Timeout=5,
                           Description="made by boto3")
made.pop("ResponseMetadata", None)
out["created"] = made
out["sha_expected"] = base64.b64encode(hashlib.sha256(v1).digest()).decode()
out["size_expected"] = len(v1)
out["first"] = invoke("made", {"n": 1})
lam.update_function_code(FunctionName="made", ZipFile=package(2))
out["after_code"] = invoke("made", {"n": 2})
lam.update_function_configuration(FunctionName="made", Environment={"Variables": {"MODE": "b"}}, Timeout=7)
configuration = lam.get_function_configuration(FunctionName="made")
out["configuration"] = {k: configuration.get(k) for k in ["Timeout", "Environment", "Runtime", "Handler", "Role",
                                                          "Description", "CodeSha256", "LastModified"]}
out["after_configuration"] = invoke("made", {"n": 3})
out["listed"] = [f["FunctionName"] for f in lam.list_functions(MaxItems=50)["Functions"]]

out["refused"] = {
    "again": refused(lambda: lam.create_function(FunctionName="made", Runtime="python3.12", Role=ROLE,
                                                  Handler="app.handler", Code={"ZipFile": v1})),
    "plugin": refused(lambda: lam.update_function_configuration(FunctionName="sentiment.classify", Timeout=5)),
    "s3": refused(lambda: lam.create_function(FunctionName="s3", Runtime="python3.12", Role=ROLE,
                                               Handler="app.handler", Code={"S3Bucket": "my-bucket", "S3Key": "code.zip"})),
    "runtime": refused(lambda: lam.create_function(FunctionName="node", Runtime="nodejs20.x", Role=ROLE,
                                                    Handler="index.handler", Code={"ZipFile": v1})),
    "traversal": refused(lambda: lam.create_function(FunctionName="evil", Runtime="python3.12", Role=ROLE,
                                                      Handler="app.handler",
                                                      Code={"ZipFile": package(1, {"../evil.py": "x = 1"})})),
    "not_zip": refused(lambda: lam.update_function_code(FunctionName="made", ZipFile=b"not a zip file")),
    "missing": refused(lambda: lam.update_function_code(FunctionName="no-such", ZipFile=v1)),
}

# The aws CLI, unmodified: create-function from a zip file on disk, then delete-function.
environment = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=credentials, AWS_CONFIG_FILE=config)
for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
    environment.pop(name, None)
zip_path = os.path.join(work, "cli.zip")
with open(zip_path, "wb") as f:
    f.write(package(9))


def cli(*arguments):
    run = subprocess.run([sys.executable, "-m", "awscli", "--profile", "plumb", "--endpoint-url", endpoint, "lambda",
                          *arguments], capture_output=True, text=True, timeout=60, env=environment)
    return {"status": run.returncode, "answer": json.loads(run.stdout or "{}"), "stderr": run.stderr[-400:]}


out["cli_create"] = cli("create-function", "--function-name", "cli-made", "--runtime", "python3.12", "--role", ROLE,
                        "--handler", "app.handler", "--zip-file", "fileb://" + zip_path)
out["cli_invoke"] = invoke("cli-made", {"via": "cli"})
out["cli_delete"] = cli("delete-function", "--function-name", "cli-made")
lam.delete_function(FunctionName="made")
out["after_delete"] = refused(lambda: lam.get_function(FunctionName="made"))
print(json.dumps(out, default=str))
