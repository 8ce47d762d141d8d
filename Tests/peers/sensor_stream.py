#!/usr/bin/env python3
"""A device streaming readings over one chunked HTTP request and reading the server's per-chunk acknowledgements
as they come, on the same connection (full duplex). Usage:
    sensor_stream.py --port PORT --detector D-1 --chunks 5 --per-chunk 4 [--start MS]
Prints {"acks": [...], "status": N} as JSON."""
import argparse
import json
import socket
import time


def reading(detector, ms, rate):
    return {"detector": detector, "timestamp": ms, "event_count": 60, "coincidence_count": 12, "rate_hz": rate,
            "temperature_c": 19.5, "pressure_hpa": 1012.7, "humidity_pct": 44, "sipm_voltage_v": 29.41,
            "sipm_current_ua": 1.12, "dead_time_ms": 0.31, "adc_peak": 805, "adc_area": 5090, "battery_v": 3.91,
            "rssi_dbm": -71, "firmware": "fw"}


class ChunkedReader:
    def __init__(self, sock):
        self.sock, self.buffer = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buffer += data

    def line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buffer) < n:
            self.fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def headers(self):
        status = int(self.line().split()[1])
        while self.line():
            pass
        return status

    def chunk(self):
        size = int(self.line().split(b";")[0], 16)
        data = self.exactly(size)
        self.exactly(2)
        return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--detector", required=True)
    p.add_argument("--chunks", type=int, default=5)
    p.add_argument("--per-chunk", type=int, default=4)
    p.add_argument("--start", type=int, default=int(time.time() * 1000))
    p.add_argument("--bad-line-in-chunk", type=int, default=0)
    args = p.parse_args()
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.sendall(b"POST /apps/sensors/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    reader = ChunkedReader(sock)
    status = None
    acks, pending = [], b""
    n = 0
    for c in range(args.chunks):
        lines = []
        for _ in range(args.per_chunk):
            lines.append(json.dumps(reading(args.detector, args.start + n * 500, 1.2)))
            n += 1
        if args.bad_line_in_chunk and c + 1 == args.bad_line_in_chunk:
            lines.append("not a reading")
        body = ("\n".join(lines) + "\n").encode()
        sock.sendall(b"%x\r\n%s\r\n" % (len(body), body))
        if status is None:
            status = reader.headers()
        # Wait for this chunk's acknowledgement before sending the next: a device keeps what is not acknowledged.
        while b"\n" not in pending:
            pending += reader.chunk()
        line, pending = pending.split(b"\n", 1)
        acks.append(json.loads(line))
    sock.sendall(b"0\r\n\r\n")
    while True:
        data = reader.chunk()
        if not data:
            break
        pending += data
    print(json.dumps({"status": status, "acks": acks, "rest": pending.decode()}))


main()
