#!/usr/bin/env python3
"""Line-protocol ingest benchmark client: sends every file of a payload directory (bench/payload.py) as one request
body, from N parallel clients over keep-alive connections.

usage: ingest.py URL TOKEN|- DIR SAMPLES CLIENTS → prints JSON {"samples", "seconds", "samples_per_second", "requests"}
Bodies are read before the clock starts; every request must answer 2xx. INGEST_CONTENT_TYPE and
INGEST_CONTENT_ENCODING set those headers (remote write: application/x-protobuf, snappy).
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

url, token, directory, samples, clients = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
bodies = []
for name in sorted(os.listdir(directory)):
    with open(os.path.join(directory, name), "rb") as f:
        bodies.append(f.read())
target = urllib.parse.urlparse(url)
headers = {"Content-Type": os.environ.get("INGEST_CONTENT_TYPE", "text/plain")}
if os.environ.get("INGEST_CONTENT_ENCODING"):
    headers["Content-Encoding"] = os.environ["INGEST_CONTENT_ENCODING"]
if token != "-":
    headers["Authorization"] = "Bearer " + token
failures = []


def worker(mine):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
    for body in mine:
        conn.request("POST", target.path + "?" + target.query, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status // 100 != 2:
            failures.append(response.status)
    conn.close()


threads = [threading.Thread(target=worker, args=(bodies[i::clients],)) for i in range(clients)]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.perf_counter() - start
if failures:
    sys.exit(f"{len(failures)} requests failed: {failures[:5]}")
print(json.dumps({"samples": samples, "seconds": seconds, "samples_per_second": samples / seconds, "requests": len(bodies)}))
