#!/usr/bin/env python3
"""Line-protocol ingest benchmark client: sends the same payload to a /write endpoint from N parallel clients.

usage: ingest.py URL TOKEN|- SAMPLES CLIENTS   → prints JSON {"samples", "seconds", "samples_per_second", "requests"}
The payload: 1,000 series (tag host), two fields per line, timestamps 10 s apart ending a minute ago,
5,000 lines (10,000 samples) per request. Built before the clock starts; every request must answer 2xx.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, token, samples, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
series, fields, lines_per_request = 1000, 2, 5000
lines_total = samples // fields
steps = lines_total // series
end = int(time.time()) - 60
lines = []
for step in range(steps):
    ts = end - (steps - 1 - step) * 10
    for host in range(series):
        lines.append(f"bench,host=h{host},region=r{host % 5} usage_user={(host * 7 + step) % 100 / 3:.3f},usage_system={(host + step * 3) % 50}i {ts}")
bodies = ["\n".join(lines[i:i + lines_per_request]).encode() for i in range(0, len(lines), lines_per_request)]
target = urllib.parse.urlparse(url)
headers = {"Content-Type": "text/plain"}
if token != "-":
    headers["Authorization"] = "Bearer " + token
failures = []


def worker(mine):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
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
print(json.dumps({"samples": len(lines) * fields, "seconds": seconds, "samples_per_second": len(lines) * fields / seconds, "requests": len(bodies)}))
