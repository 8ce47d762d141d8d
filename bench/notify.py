#!/usr/bin/env python3
"""Notification throughput: publishes COUNT messages to TOPIC through BASE (Plumb's API, THREADS keep-alive
connections), then waits until every delivery of them is recorded as delivered. Prints JSON: messages published per
second (accepted: stored with one pending delivery per subscription) and deliveries per second from the first publish
to the last recorded delivery.
Usage: notify.py BASE TOKEN TOPIC COUNT THREADS"""
import http.client, json, sys, threading, time, urllib.parse

base, token, topic, count, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
url = urllib.parse.urlparse(base)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

def counts():
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    c.request("GET", f"/api/v1/deliveries?topic={topic}&limit=1", headers=headers)
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    return body.get("counts", {})

before = counts().get("delivered", 0)
failures = []
def publisher(k):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for i in range(k, count, threads):
        body = json.dumps({"subject": f"bench {i}", "message": f"notification {i} " + "x" * 200})
        c.request("POST", f"/api/v1/topics/{topic}/publish", body=body, headers=headers)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            failures.append(r.status)
    c.close()

start = time.perf_counter()
workers = [threading.Thread(target=publisher, args=(k,)) for k in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
published = time.perf_counter() - start
while True:
    c = counts()
    if c.get("delivered", 0) - before >= count - len(failures) or c.get("failed", 0) > 0:
        break
    time.sleep(0.05)
delivered = time.perf_counter() - start
print(json.dumps({
    "messages": count, "refused": len(failures), "failed_deliveries": c.get("failed", 0),
    "publish_per_second": count / published, "delivered_per_second": (count - len(failures)) / delivered,
    "seconds": delivered,
}))
