"""Sends one PutMetricData request of 100 datums over and over for a while, from several processes with keep-alive
connections, and prints {"requests_per_second", "datums_per_second", "errors"}.

    aws_ingest.py URL aws|plumb SECONDS PROCESSES KEY SECRET-OR-TOKEN

`aws`: CloudWatch's AWS JSON 1.0 form, signed once with SigV4 by botocore (a signature may be replayed within its
15 minutes, as AWS allows), to Plumb's AWS endpoint or any CloudWatch emulator. `plumb`: the same datums in Plumb's
own form to POST /api/v1/metrics with the bearer token.
"""
import http.client
import json
import multiprocessing
import sys
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

url, mode, seconds, processes, key, secret = sys.argv[1:7]
seconds, processes = float(seconds), int(processes)
parsed = urllib.parse.urlparse(url)
DATUMS = 100
datums = [{"MetricName": "m%d" % (i % 10), "Dimensions": [{"Name": "host", "Value": "h%d" % i}], "Value": float(i)}
          for i in range(DATUMS)]
if mode == "aws":
    path = "/"
    body = json.dumps({"Namespace": "Bench/AWS", "MetricData": datums})
    request = AWSRequest(method="POST", url=url.rstrip("/") + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"})
    SigV4Auth(Credentials(key, secret), "monitoring", "us-east-1").add_auth(request)
    headers = dict(request.headers)
else:
    path = "/api/v1/metrics"
    body = json.dumps({"namespace": "Bench/AWS", "data": [
        {"name": d["MetricName"], "dimensions": {"host": d["Dimensions"][0]["Value"]}, "value": d["Value"]}
        for d in datums]})
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + secret}


def worker(_):
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    ok = errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        response.read()
        if response.status < 300:
            ok += 1
        else:
            errors += 1
            if errors == 1:
                sys.stderr.write("refused: %d\n" % response.status)
    return ok, errors


with multiprocessing.Pool(processes) as pool:
    results = pool.map(worker, range(processes))
ok = sum(r[0] for r in results)
print(json.dumps({"requests_per_second": ok / seconds, "datums_per_second": ok * DATUMS / seconds,
                  "errors": sum(r[1] for r in results)}))
