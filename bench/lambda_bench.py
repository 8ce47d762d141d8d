"""The measurements of the Lambda benchmark (bench/lambda.sh). Each mode prints one JSON object.

    lambda_bench.py http URL TOKEN SECONDS [BODY]
                                             POSTs BODY (default {}) to URL over one keep-alive connection for
                                             SECONDS, one call at a time (TOKEN - for none)
    lambda_bench.py floor CODE_DIR HANDLER SECONDS
                                             imports HANDLER (module.function) from CODE_DIR and calls it in a loop
                                             with the same event and a context object: the floor, no IPC at all
    lambda_bench.py cold SERVER TOKEN FUNCTION COUNT
                                             COUNT times: waits until the autoscaler has taken FUNCTION to zero
                                             instances, then invokes it (a cold start); the caller's latencies and the
                                             REPORT lines' Init Duration
    lambda_bench.py spawn CODE_DIR MODULE COUNT
                                             COUNT times: python3 importing awslambdaric and MODULE, then exiting (the
                                             floor of a cold start: a process and its imports)
"""
import http.client
import importlib
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def summary(latencies_ns, seconds):
    latencies_ns.sort()
    pick = lambda q: latencies_ns[min(len(latencies_ns) - 1, int(q * len(latencies_ns)))] / 1_000
    return {"calls": len(latencies_ns), "per_second": len(latencies_ns) / seconds, "p50_us": pick(0.50),
            "p99_us": pick(0.99), "mean_us": statistics.fmean(latencies_ns) / 1_000}


def http_run(url, token, seconds, body=b"{}"):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"content-type": "application/json"}
    if token != "-":
        headers["authorization"] = "Bearer " + token
    latencies, errors, end = [], 0, time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < end:
        begin = time.perf_counter_ns()
        connection.request("POST", parts.path + ("?" + parts.query if parts.query else ""), body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter_ns() - begin)
        errors += response.status >= 300
    result = summary(latencies, time.monotonic() - started)
    result["errors"] = errors
    return result


class Context:
    function_name = "noop"
    memory_limit_in_mb = 128
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self):
        return 3_000


def floor_run(code, handler, seconds):
    sys.path.insert(0, code)
    module, function = handler.rsplit(".", 1)
    call = getattr(importlib.import_module(module), function)
    context, latencies, end = Context(), [], time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < end:
        begin = time.perf_counter_ns()
        # As the runtime client does per invocation: the event decoded from JSON, the answer encoded to JSON.
        json.dumps(call(json.loads(b"{}"), context))
        latencies.append(time.perf_counter_ns() - begin)
    result = summary(latencies, time.monotonic() - started)
    result["errors"] = 0
    return result


def get(server, token, path):
    request = urllib.request.Request(server + path, headers={"authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def cold_run(server, token, function, count):
    latencies = []
    for _ in range(count):
        deadline = time.monotonic() + 60
        while True:
            scaling = get(server, token, f"/api/v1/functions/{function}/scaling")
            if scaling["instances"] == 0 and scaling["initializingInstances"] == 0:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{function} did not scale to zero: {scaling}")
            time.sleep(0.2)
        request = urllib.request.Request(server + f"/api/v1/functions/{function}/invoke", data=b"{}", method="POST",
                                         headers={"authorization": "Bearer " + token})
        begin = time.perf_counter_ns()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        latencies.append((time.perf_counter_ns() - begin) / 1e6)
    time.sleep(1.5)
    group = urllib.parse.quote("/aws/lambda/" + function, safe="")
    events = get(server, token, f"/api/v1/logs/{group}?filter=%22Init%20Duration%22&limit={count}&order=newest")
    inits = [float(re.search(r"Init Duration: ([0-9.]+) ms", e["message"]).group(1)) for e in events["events"]]
    return {"cold_calls_ms": latencies, "cold_call_p50_ms": statistics.median(latencies),
            "init_durations_ms": inits, "init_p50_ms": statistics.median(inits) if inits else None}


def spawn_run(code, module, count):
    times = []
    for _ in range(count):
        begin = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", f"import awslambdaric.bootstrap, {module}"], cwd=code, check=True)
        times.append((time.perf_counter_ns() - begin) / 1e6)
    return {"spawn_ms": times, "spawn_p50_ms": statistics.median(times)}


if __name__ == "__main__":
    mode, arguments = sys.argv[1], sys.argv[2:]
    if mode == "http":
        body = arguments[3].encode() if len(arguments) > 3 else b"{}"
        print(json.dumps(http_run(arguments[0], arguments[1], float(arguments[2]), body)))
    elif mode == "floor":
        print(json.dumps(floor_run(arguments[0], arguments[1], float(arguments[2]))))
    elif mode == "cold":
        print(json.dumps(cold_run(arguments[0], arguments[1], arguments[2], int(arguments[3]))))
    elif mode == "spawn":
        print(json.dumps(spawn_run(arguments[0], arguments[1], int(arguments[2]))))
    else:
        raise SystemExit(f"unknown mode {mode}")
