"""Exports metrics and logs to Plumb with the OpenTelemetry Python SDK and its OTLP/HTTP protobuf exporters, then
prints, as one JSON object, exactly what it recorded (the test reads Plumb's answers against it).

usage: otel_export.py ENDPOINT TOKEN SERVICE [--seconds N]
The temporality is the SDK's default (cumulative) unless OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE says
otherwise.
"""
import argparse
import json
import logging
import random
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

parser = argparse.ArgumentParser()
parser.add_argument("endpoint")
parser.add_argument("token")
parser.add_argument("service")
parser.add_argument("--seconds", type=float, default=3.0)
args = parser.parse_args()

headers = {"Authorization": "Bearer " + args.token}
resource = Resource.create({"service.name": args.service, "service.instance.id": "instance-1"})
exporter = OTLPMetricExporter(endpoint=args.endpoint + "/v1/metrics", headers=headers, timeout=10)
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=500)
views = [View(instrument_name="shop.payload.size", aggregation=ExponentialBucketHistogramAggregation())]
provider = MeterProvider(resource=resource, metric_readers=[reader], views=views)
meter = provider.get_meter("shop")
orders = meter.create_counter("shop.orders", unit="{order}")
depth = meter.create_up_down_counter("shop.queue.depth")
temperature = meter.create_gauge("shop.temperature", unit="Cel")
duration = meter.create_histogram("shop.request.duration", unit="ms")
size = meter.create_histogram("shop.payload.size", unit="By")

rng = random.Random(7)
recorded = {"orders": 0, "depth": 0, "temperature": None, "duration": [], "size": []}
end = time.time() + args.seconds
while time.time() < end:
    n = rng.randint(1, 5)
    orders.add(n, {"region": "eu"})
    recorded["orders"] += n
    step = rng.choice([2, -1, 1])
    depth.add(step)
    recorded["depth"] += step
    t = round(rng.uniform(15, 30), 2)
    temperature.set(t)
    recorded["temperature"] = t
    d = round(rng.uniform(0.5, 900), 3)
    duration.record(d, {"route": "/pay"})
    recorded["duration"].append(d)
    s = rng.randint(1, 100000)
    size.record(s)
    recorded["size"].append(s)
    time.sleep(0.05)
# The last values are above every earlier one, so the last period's maximum is the last value whichever exports
# share its second.
depth.add(100)
recorded["depth"] += 100
temperature.set(99.5)
recorded["temperature"] = 99.5

logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(
    BatchLogRecordProcessor(OTLPLogExporter(endpoint=args.endpoint + "/v1/logs", headers=headers, timeout=10)))
log = logging.getLogger("shop")
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logs))
log.setLevel(logging.INFO)
log.propagate = False
tracer = TracerProvider(resource=resource).get_tracer("shop")
records = []
with tracer.start_as_current_span("checkout") as span:
    context = span.get_span_context()
    trace_id, span_id = format(context.trace_id, "032x"), format(context.span_id, "016x")
    log.error("payment failed for order %d", 17, extra={"user": "ada"})
    records.append({"body": "payment failed for order 17", "severity": "ERROR", "traceId": trace_id,
                    "spanId": span_id, "user": "ada"})
log.info("payment ok", extra={"user": "grace"})
records.append({"body": "payment ok", "severity": "INFO", "user": "grace"})
log.warning("queue is deep")
records.append({"body": "queue is deep", "severity": "WARN"})

provider.shutdown()
logs.shutdown()


def summary(values):
    return {"count": len(values), "sum": sum(values), "min": min(values), "max": max(values)}


print(json.dumps({
    "orders": recorded["orders"], "depth": recorded["depth"], "temperature": recorded["temperature"],
    "duration": summary(recorded["duration"]), "size": summary(recorded["size"]), "logs": records,
}))
