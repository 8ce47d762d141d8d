#!/usr/bin/env python3
"""Simulated muon detectors: realistic 16-field readings (about 450 bytes of JSON each), two a second per detector:
about 1 KB/s each.

    detectors.py readings --detectors 50 --seconds 10 [--start EPOCH_MS] > readings.ndjson
    detectors.py register --base http://127.0.0.1:9400 --detectors 50      (project, site, detectors)
    detectors.py stream --base http://127.0.0.1:9400 --detectors 50 --seconds 30 --acked acked.ndjson

`stream-chunked` keeps one chunked request open per detector (a device's long-lived stream), sends each reading as a
chunk and waits for its acknowledgement line; after a failure it reconnects and resends what was not acknowledged
(the idempotency on detector and timestamp keeps resends from doubling). `stream` posts each detector's readings as they are taken, every 500 ms (one request per reading, as a device on
a flaky link would) and appends the (detector, timestamp) of every acknowledged reading to --acked, flushed as it goes, so a
test can kill the server at any moment and know what was acknowledged."""
import argparse
import os
import asyncio
import json
import math
import random
import sys
import time
import urllib.request


def reading(detector, index, t_ms, rng):
    base_rate = 1.0 + (hash(detector) % 50) / 100
    rate = max(0.0, rng.gauss(base_rate, 0.1))
    events = int(rate * 60 + rng.gauss(0, 3))
    return {
        "detector": detector,
        "timestamp": t_ms,
        "event_count": max(0, events),
        "coincidence_count": max(0, int(events * 0.2 + rng.gauss(0, 1))),
        "rate_hz": round(rate, 4),
        "temperature_c": round(18 + 4 * math.sin(index / 600) + rng.gauss(0, 0.2), 3),
        "pressure_hpa": round(1013 + rng.gauss(0, 2), 2),
        "humidity_pct": round(min(100, max(0, 45 + rng.gauss(0, 5))), 2),
        "sipm_voltage_v": round(29.4 + rng.gauss(0, 0.02), 4),
        "sipm_current_ua": round(1.1 + rng.gauss(0, 0.05), 4),
        "dead_time_ms": round(abs(rng.gauss(0.3, 0.05)), 4),
        "adc_peak": int(800 + rng.gauss(0, 40)),
        "adc_area": int(5100 + rng.gauss(0, 200)),
        "battery_v": round(3.9 - index * 1e-6, 5),
        "rssi_dbm": int(-70 + rng.gauss(0, 3)),
        "firmware": "muon-fw 2.4.1 (build 7f3a9c, \"stable\")",
    }


def names(n):
    return [f"D-{i:05d}" for i in range(n)]


def post(url, body, timeout=10, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read() or b"{}")


def register(base, n, token):
    """The registry is the operator's: it needs the admin token (or an IAM user's token allowed sensors:Create*)."""
    post(base + "/apps/sensors/projects", json.dumps({"id": "muon", "name": "Muon survey"}).encode(), token=token)
    post(base + "/apps/sensors/sites", json.dumps({"id": "site-1", "project": "muon", "latitude": 51.5, "longitude": -0.12}).encode(), token=token)
    for d in names(n):
        post(base + "/apps/sensors/detectors", json.dumps({"id": d, "site": "site-1"}).encode(), token=token)


async def stream(base, n, seconds, acked_path):
    loop = asyncio.get_running_loop()
    from concurrent.futures import ThreadPoolExecutor
    loop.set_default_executor(ThreadPoolExecutor(max_workers=min(200, n * 2)))
    acked = open(acked_path, "a")
    start = int(time.time() * 1000)
    stats = {"acked": 0, "failed": 0}

    async def device(d, k):
        rng = random.Random(k)
        for i in range(seconds * 2):
            t_ms = start + i * 500
            body = (json.dumps(reading(d, i, t_ms, rng)) + "\n").encode()
            try:
                status, answer = await loop.run_in_executor(None, post, base + "/apps/sensors/ingest", body, 5)
                if status == 200 and answer.get("accepted", 0) + answer.get("duplicates", 0) == 1:
                    acked.write(json.dumps([d, t_ms]) + "\n")
                    acked.flush()
                    stats["acked"] += 1
            except Exception:
                stats["failed"] += 1
            await asyncio.sleep(max(0, (start + (i + 1) * 500) / 1000 - time.time()))

    await asyncio.gather(*(device(d, k) for k, d in enumerate(names(n))))
    print(json.dumps(stats))


class ChunkedStream:
    """One device's long-lived chunked POST /apps/sensors/ingest: send a reading as a chunk, read its ack line."""

    def __init__(self, host, port):
        import socket
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.sendall(b"POST /apps/sensors/ingest HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-ndjson\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" % host.encode())
        self.buffer, self.pending, self.status = b"", b"", None

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("closed")
        self.buffer += data

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _chunk(self):
        size = int(self._line().split(b";")[0], 16)
        while len(self.buffer) < size + 2:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return data

    def send(self, line):
        body = line.encode() + b"\n"
        self.sock.sendall(b"%x\r\n%s\r\n" % (len(body), body))
        if self.status is None:
            self.status = int(self._line().split()[1])
            while self._line():
                pass
        while b"\n" not in self.pending:
            self.pending += self._chunk()
        ack, self.pending = self.pending.split(b"\n", 1)
        return json.loads(ack)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def stream_chunked(base, n, seconds, acked_path):
    """Each detector holds one chunked stream; after a failure it reconnects and resends what was not acknowledged."""
    import threading
    from urllib.parse import urlparse
    url = urlparse(base)
    acked = open(acked_path, "a")
    lock = threading.Lock()
    stats = {"acked": 0, "reconnects": 0}
    start = int(time.time() * 1000)

    def device(d, k):
        rng = random.Random(k)
        stream = None
        for i in range(seconds * 2):
            t_ms = start + i * 500
            line = json.dumps(reading(d, i, t_ms, rng))
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    if stream is None:
                        stream = ChunkedStream(url.hostname, url.port)
                    ack = stream.send(line)
                    if ack.get("accepted", 0) + ack.get("duplicates", 0) == 1:
                        with lock:
                            acked.write(json.dumps([d, t_ms]) + "\n")
                            acked.flush()
                            stats["acked"] += 1
                    break
                except Exception:
                    if stream:
                        stream.close()
                    stream = None
                    with lock:
                        stats["reconnects"] += 1
                    time.sleep(0.2)
            time.sleep(max(0, (start + (i + 1) * 500) / 1000 - time.time()))
        if stream:
            stream.close()

    threads = [threading.Thread(target=device, args=(d, k)) for k, d in enumerate(names(n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(stats))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["readings", "register", "stream", "stream-chunked"])
    parser.add_argument("--base", default="http://127.0.0.1:9400")
    parser.add_argument("--detectors", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--start", type=int, default=None)
    parser.add_argument("--acked", default="acked.ndjson")
    parser.add_argument("--token", default=os.environ.get("PLUMB_TOKEN"), help="admin token for register (default: $PLUMB_TOKEN)")
    args = parser.parse_args()
    if args.command == "readings":
        start = args.start or int(time.time() * 1000)
        for k, d in enumerate(names(args.detectors)):
            rng = random.Random(k)
            for i in range(args.seconds * 2):
                sys.stdout.write(json.dumps(reading(d, i, start + i * 500, rng)) + "\n")
    elif args.command == "register":
        register(args.base, args.detectors, args.token)
    elif args.command == "stream-chunked":
        stream_chunked(args.base, args.detectors, args.seconds, args.acked)
    else:
        asyncio.run(stream(args.base, args.detectors, args.seconds, args.acked))


main()
