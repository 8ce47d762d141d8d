"""Invokes a function through Plumb's Lambda API with real boto3, the log tail asked for, and prints one JSON object:
the status, FunctionError, the payload and the decoded tail.

    lambda_invoke.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE FUNCTION PAYLOAD
"""
import base64
import json
import sys

from aws_common import once, session

endpoint, credentials, config, function, payload = sys.argv[1:6]
client = session(credentials, config).client("lambda", endpoint_url=endpoint, config=once())
answer = client.invoke(FunctionName=function, Payload=payload.encode(), LogType="Tail")
print(json.dumps({
    "status": answer["StatusCode"], "function_error": answer.get("FunctionError"),
    "payload": json.loads(answer["Payload"].read() or b"null"),
    "tail": base64.b64decode(answer.get("LogResult", "")).decode(),
}))
