"""Drives Plumb's CloudWatch API with real boto3, as an unmodified client would, and prints one JSON object of
what it saw: the answers of each operation and the error codes of each refused request.

    aws_cloudwatch.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import json
import sys
import time

import boto3
import botocore.exceptions

from aws_common import once, session

endpoint, credentials, config = sys.argv[1:4]
plumb = session(credentials, config)
cw = plumb.client("cloudwatch", endpoint_url=endpoint, config=once())
retries = once()
out = {}


def error_code(call):
    """The code, status and message of a refused call (this script checks all three)."""
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
                "message": error.response["Error"].get("Message", "")}
    return None


now = int(time.time())
# Values, a value with dimensions and unit, a statistic set, values with counts, a high-resolution value.
cw.put_metric_data(
    Namespace="Boto/Test",
    MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}], "Value": 12.5,
         "Unit": "Milliseconds", "Timestamp": now - 120},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}], "Value": 37.5,
         "Unit": "Milliseconds", "Timestamp": now - 120},
        {"MetricName": "Requests", "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4},
         "Timestamp": now - 120},
        {"MetricName": "Sizes", "Values": [1, 2, 3], "Counts": [1, 1, 2], "Timestamp": now - 120},
        {"MetricName": "Fast", "Value": 1, "StorageResolution": 1, "Timestamp": now - 120},
    ],
)
out["put"] = "ok"
# 600 datums: over 10 KB, so botocore gzips the body (PutMetricData's requestCompression trait).
sent = []
cw.meta.events.register("before-send.cloudwatch.PutMetricData",
                        lambda request, **_: sent.append(request.headers.get("Content-Encoding")))
cw.put_metric_data(Namespace="Boto/Test",
                   MetricData=[{"MetricName": "Bulk", "Value": float(i), "Timestamp": now - 60} for i in range(600)])
out["bulk_compressed"] = sent[-1] in ("gzip", b"gzip")

listed = cw.list_metrics(Namespace="Boto/Test")
out["list"] = sorted(
    [m["MetricName"] + "".join("|%s=%s" % (d["Name"], d["Value"]) for d in m["Dimensions"]) for m in listed["Metrics"]])
filtered = cw.list_metrics(Namespace="Boto/Test", Dimensions=[{"Name": "Service"}])
out["list_by_dimension"] = [m["MetricName"] for m in filtered["Metrics"]]

stats = cw.get_metric_statistics(
    Namespace="Boto/Test", MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "api"}],
    StartTime=now - 3600, EndTime=now + 60, Period=3600,
    Statistics=["SampleCount", "Average", "Maximum"])
out["stats"] = [{k: v for k, v in p.items() if k != "Timestamp"} for p in stats["Datapoints"]]
out["stats_label"] = stats["Label"]
pct = cw.get_metric_statistics(
    Namespace="Boto/Test", MetricName="Sizes", StartTime=now - 3600, EndTime=now + 60, Period=3600,
    ExtendedStatistics=["p50"])
out["percentile"] = [p.get("ExtendedStatistics") for p in pct["Datapoints"]]
requests = cw.get_metric_statistics(
    Namespace="Boto/Test", MetricName="Requests", StartTime=now - 3600, EndTime=now + 60, Period=3600,
    Statistics=["Sum", "SampleCount"])
out["statistic_set"] = [{k: v for k, v in p.items() if k in ("Sum", "SampleCount")} for p in requests["Datapoints"]]

# GetMetricData: two metric queries (one hidden) and an expression over them.
md = cw.get_metric_data(
    MetricDataQueries=[
        {"Id": "lat", "ReturnData": False, "MetricStat": {"Metric": {
            "Namespace": "Boto/Test", "MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}]},
            "Period": 3600, "Stat": "Sum"}},
        {"Id": "req", "MetricStat": {"Metric": {"Namespace": "Boto/Test", "MetricName": "Requests"},
                                     "Period": 3600, "Stat": "Sum"}},
        {"Id": "ratio", "Expression": "lat / req", "Label": "latency per request"},
    ],
    StartTime=now - 3600, EndTime=now + 60)
out["metric_data"] = {r["Id"]: [r["Label"], sum(r["Values"])] for r in md["MetricDataResults"]}
# Five minutes of points read two at a time through boto3's paginator, newest first.
cw.put_metric_data(Namespace="Boto/Test", MetricData=[
    {"MetricName": "Paged", "Value": float(i), "Timestamp": now - 600 + 60 * i} for i in range(5)])
pages = cw.get_paginator("get_metric_data").paginate(
    MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": {"Namespace": "Boto/Test", "MetricName": "Paged"},
                                                   "Period": 60, "Stat": "Maximum"}}],
    StartTime=now - 900, EndTime=now + 60, MaxDatapoints=2)
values, page_count = [], 0
for page in pages:
    page_count += 1
    values += page["MetricDataResults"][0]["Values"]
out["paged_values"] = values
# Queries of two periods in one request; an expression takes the period of what it reads.
paged = {"Namespace": "Boto/Test", "MetricName": "Paged"}
mixed = cw.get_metric_data(MetricDataQueries=[
    {"Id": "minute", "MetricStat": {"Metric": paged, "Period": 60, "Stat": "Maximum"}},
    {"Id": "five", "MetricStat": {"Metric": paged, "Period": 300, "Stat": "Sum"}},
    {"Id": "twice", "Expression": "five * 2"}], StartTime=now - 900, EndTime=now + 60)
out["mixed"] = {r["Id"]: [len(r["Values"]), sum(r["Values"])] for r in mixed["MetricDataResults"]}
out["mixed_order"] = [r["Id"] for r in mixed["MetricDataResults"]]
out["pages"] = page_count

# Refusals, each with AWS's code: sent without boto3's own checks, so the server is the one that refuses.
raw = plumb.client("cloudwatch", endpoint_url=endpoint, config=once(validate=False))
out["errors"] = {
    "too_many_dimensions": error_code(lambda: raw.put_metric_data(Namespace="Boto/Test", MetricData=[
        {"MetricName": "x", "Value": 1, "Dimensions": [{"Name": "d%d" % i, "Value": "v"} for i in range(31)]}])),
    "over_limit_batch": error_code(lambda: raw.put_metric_data(Namespace="Boto/Test", MetricData=[
        {"MetricName": "x", "Value": 1}] * 1001)),
    "both_statistics": error_code(lambda: raw.get_metric_statistics(
        Namespace="Boto/Test", MetricName="Latency", StartTime=now - 3600, EndTime=now, Period=60,
        Statistics=["Sum"], ExtendedStatistics=["p99"])),
    "bad_period": error_code(lambda: raw.get_metric_statistics(
        Namespace="Boto/Test", MetricName="Latency", StartTime=now - 3600, EndTime=now, Period=7,
        Statistics=["Sum"])),
    "aws_namespace": error_code(lambda: raw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "x", "Value": 1}])),
    "mixed_periods": error_code(lambda: raw.get_metric_data(MetricDataQueries=[
        {"Id": "a", "MetricStat": {"Metric": {"Namespace": "Boto/Test", "MetricName": "Latency"}, "Period": 60,
                                   "Stat": "Sum"}},
        {"Id": "b", "MetricStat": {"Metric": {"Namespace": "Boto/Test", "MetricName": "Latency"}, "Period": 300,
                                   "Stat": "Sum"}},
        {"Id": "e", "Expression": "a + b"}], StartTime=now - 3600, EndTime=now)),
    "bad_expression": error_code(lambda: raw.get_metric_data(MetricDataQueries=[
        {"Id": "e", "Expression": "SUM(", "Period": 60}], StartTime=now - 3600, EndTime=now)),
    "empty_name": error_code(lambda: raw.put_metric_data(Namespace="Boto/Test", MetricData=[
        {"MetricName": "x", "Value": 1, "Dimensions": [{"Name": "", "Value": "v"}]}])),
}

# A wrong secret, an unknown key: refused before anything is done.
key = plumb.get_credentials()
wrong = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1", config=retries,
                     aws_access_key_id=key.access_key, aws_secret_access_key="x" * 40)
out["errors"]["bad_signature"] = error_code(lambda: wrong.put_metric_data(
    Namespace="Boto/Refused", MetricData=[{"MetricName": "x", "Value": 1}]))
unknown = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1", config=retries,
                       aws_access_key_id="PKIAUNKNOWNKEY000000", aws_secret_access_key="x" * 40)
out["errors"]["unknown_key"] = error_code(lambda: unknown.list_metrics())
print(json.dumps(out, sort_keys=True))
