"""Drives Plumb's Lambda API with real boto3 and the aws CLI's invoke, and prints one JSON object of what it saw:
the functions listed and described, synchronous invocations (a payload, a failure with Lambda's FunctionError, the log
tail), an Event invocation, the concurrency operations, and the errors of refused calls.

    aws_lambda.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import base64
import json
import subprocess
import sys
import tempfile


from aws_common import once, refused, session, wrong_secret

endpoint, credentials, config = sys.argv[1:4]
plumb = session(credentials, config)
lam = plumb.client("lambda", endpoint_url=endpoint, config=once())
# Without boto3's own checks, so the server is the one that refuses.
unchecked = plumb.client("lambda", endpoint_url=endpoint, config=once(validate=False))
out = {}



names = []
for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 10}):
    names += [f["FunctionName"] for f in page["Functions"]]
out["functions"] = names
configuration = lam.get_function(FunctionName="sentiment.classify")["Configuration"]
out["configuration"] = {k: configuration[k] for k in ["FunctionName", "FunctionArn", "MemorySize", "Description"]}

answer = lam.invoke(FunctionName="sentiment.classify", Payload=json.dumps({"text": "I love this"}), LogType="Tail")
out["invoke"] = {"status": answer["StatusCode"], "error": answer.get("FunctionError"),
                 "payload": json.loads(answer["Payload"].read()), "version": answer.get("ExecutedVersion"),
                 "log": base64.b64decode(answer.get("LogResult", "")).decode()}
failed = lam.invoke(FunctionName="sentiment.classify", Payload=b"not json")
out["invoke_failed"] = {"status": failed["StatusCode"], "error": failed.get("FunctionError"),
                        "payload": json.loads(failed["Payload"].read())}
by_arn = lam.invoke(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:sentiment.classify",
                    Payload=json.dumps({"text": "this is bad and awful"}))
out["invoke_by_arn"] = json.loads(by_arn["Payload"].read())
event = lam.invoke(FunctionName="sentiment.classify", InvocationType="Event", Payload=json.dumps({"text": "queued"}))
out["event_status"] = event["StatusCode"]
out["dry_run_status"] = lam.invoke(FunctionName="sentiment.classify", InvocationType="DryRun")["StatusCode"]

out["put_concurrency"] = lam.put_function_concurrency(
    FunctionName="sentiment.classify", ReservedConcurrentExecutions=3)["ReservedConcurrentExecutions"]
out["get_concurrency"] = lam.get_function_concurrency(FunctionName="sentiment.classify").get(
    "ReservedConcurrentExecutions")
out["described_concurrency"] = lam.get_function(FunctionName="sentiment.classify").get("Concurrency")
lam.delete_function_concurrency(FunctionName="sentiment.classify")
out["after_delete"] = lam.get_function_concurrency(FunctionName="sentiment.classify").get(
    "ReservedConcurrentExecutions")
provisioned = lam.put_provisioned_concurrency_config(
    FunctionName="sentiment.classify", Qualifier="live", ProvisionedConcurrentExecutions=1)
out["provisioned"] = {k: provisioned[k] for k in ["RequestedProvisionedConcurrentExecutions", "Status"]}
out["provisioned_read"] = lam.get_provisioned_concurrency_config(
    FunctionName="sentiment.classify", Qualifier="live")["RequestedProvisionedConcurrentExecutions"]
lam.delete_provisioned_concurrency_config(FunctionName="sentiment.classify", Qualifier="live")
out["account"] = lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]

# Reserved concurrency 0: every invocation is throttled, with Lambda's code and status.
lam.put_function_concurrency(FunctionName="sentiment.list", ReservedConcurrentExecutions=0)
out["refused"] = {
    "throttled": refused(lambda: lam.invoke(FunctionName="sentiment.list", Payload=b"{}")),
    "unknown": refused(lambda: lam.invoke(FunctionName="no-such-function", Payload=b"{}")),
    "unknown_get": refused(lambda: lam.get_function(FunctionName="no-such-function")),
    "no_provisioned": refused(lambda: lam.get_provisioned_concurrency_config(
        FunctionName="sentiment.classify", Qualifier="live")),
    "version": refused(lambda: lam.invoke(FunctionName="sentiment.classify", Qualifier="7", Payload=b"{}")),
    "negative_reserved": refused(lambda: unchecked.put_function_concurrency(
        FunctionName="sentiment.classify", ReservedConcurrentExecutions=-1)),
}
lam.delete_function_concurrency(FunctionName="sentiment.list")
wrong = wrong_secret(plumb, "lambda", endpoint)
out["refused"]["bad_signature"] = refused(lambda: wrong.list_functions())

# The aws CLI, unmodified.
with tempfile.NamedTemporaryFile(suffix=".json") as response:
    cli = subprocess.run(
        [sys.executable, "-m", "awscli", "--profile", "plumb", "--endpoint-url", endpoint, "lambda", "invoke",
         "--function-name", "sentiment.classify",
         "--payload", json.dumps({"text": "great work"}), response.name],
        capture_output=True, text=True, timeout=60)
    out["cli"] = {"status": cli.returncode, "answer": json.loads(cli.stdout or "{}"),
                  "payload": json.loads(open(response.name).read() or "{}"), "stderr": cli.stderr[-300:]}
print(json.dumps(out))
