#!/usr/bin/env python3
"""Log ingest benchmark client: the same Apache-style lines into Plumb (POST /api/v1/logs/{group}/{stream}) or
Loki (POST /loki/api/v1/push), 1,000 events per request, from N parallel clients.

usage: logs_ingest.py plumb|loki URL TOKEN|- EVENTS CLIENTS → prints JSON {"events", "seconds", "events_per_second"}
Bodies are built before the clock starts; every request must answer 2xx.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

kind, url, token, events, clients = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
per_request = 1000
now_ms = int(time.time() * 1000) - 600_000
bodies = []
for start in range(0, events, per_request):
    lines = []
    for n in range(start, min(start + per_request, events)):
        status = 500 if n % 100 == 0 else 200
        lines.append((now_ms + n // 100, f'10.0.{n % 256}.{n % 7} - user{n % 50} [22/Nov/2026:10:00:00 +0000] "GET /item/{n} HTTP/1.1" {status} {n % 5000}'))
    stream = f"web-{(start // per_request) % clients}"
    if kind == "plumb":
        body = {"events": [{"timestamp": ts, "message": m} for ts, m in lines]}
    else:
        body = {"streams": [{"stream": {"job": "bench", "stream": stream}, "values": [[str(ts * 1_000_000), m] for ts, m in lines]}]}
    bodies.append((stream, json.dumps(body).encode()))
target = urllib.parse.urlparse(url)
headers = {"Content-Type": "application/json"}
if token != "-":
    headers["Authorization"] = "Bearer " + token
failures = []


def worker(mine):
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
    for stream, body in mine:
        path = target.path + (f"/{stream}" if kind == "plumb" else "")
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status // 100 != 2:
            failures.append((response.status))
    conn.close()


# Each client owns one stream (Loki requires in-order timestamps per stream).
threads = [threading.Thread(target=worker, args=([b for b in bodies if b[0] == f"web-{i}"],)) for i in range(clients)]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.perf_counter() - start
if failures:
    sys.exit(f"{len(failures)} requests failed: {failures[:5]}")
print(json.dumps({"events": events, "seconds": seconds, "events_per_second": events / seconds}))
