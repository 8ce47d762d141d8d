#!/usr/bin/env python3
"""Serves N gauges bench_latency{series="sI"} with fresh random values on every scrape (the Prometheus side of
bench/alarms.sh). Usage: exporter.py PORT N"""
import random, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, n = int(sys.argv[1]), int(sys.argv[2])

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = "# TYPE bench_latency gauge\n" + "".join(
            f'bench_latency{{series="s{i}"}} {random.uniform(1, 200):.3f}\n' for i in range(n))
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
