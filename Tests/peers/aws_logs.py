"""Drives Plumb's CloudWatch Logs API with real boto3 and prints one JSON object of what it saw.

    aws_logs.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import json
import sys
import time

import botocore.config

from aws_common import error_code, once, session

endpoint, credentials, config = sys.argv[1:4]
logs = session(credentials, config).client("logs", endpoint_url=endpoint, config=once())
out = {}


group = "/boto/app"
logs.create_log_group(logGroupName=group)
logs.create_log_stream(logGroupName=group, logStreamName="web-1")
logs.create_log_stream(logGroupName=group, logStreamName="web-10")
now = int(time.time() * 1000)
messages = ["GET /a 200 12", "GET /b 500 40", "POST /c 200 7", "GET /d 503 99"]
logs.put_log_events(logGroupName=group, logStreamName="web-1",
                    logEvents=[{"timestamp": now - 1000 * (len(messages) - i), "message": m}
                               for i, m in enumerate(messages)])
logs.put_log_events(logGroupName=group, logStreamName="web-10",
                    logEvents=[{"timestamp": now, "message": "GET /z 500 1"}])

groups = logs.describe_log_groups(logGroupNamePrefix="/boto/")["logGroups"]
out["groups"] = [(g["logGroupName"], g.get("storedBytes", 0) >= 0, g["arn"]) for g in groups]
streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
out["streams"] = [s["logStreamName"] for s in streams]

from_head = logs.get_log_events(logGroupName=group, logStreamName="web-1", startFromHead=True)
out["get_from_head"] = [e["message"] for e in from_head["events"]]
latest = logs.get_log_events(logGroupName=group, logStreamName="web-1", limit=2)
out["get_latest"] = [e["message"] for e in latest["events"]]
# Following with the forward token: nothing new, then one more event.
forward = from_head["nextForwardToken"]
out["follow_empty"] = len(logs.get_log_events(logGroupName=group, logStreamName="web-1",
                                              nextToken=forward)["events"])
logs.put_log_events(logGroupName=group, logStreamName="web-1",
                    logEvents=[{"timestamp": now + 1, "message": "GET /e 200 3"}])
out["follow_new"] = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName="web-1",
                                                                nextToken=forward)["events"]]

filtered = logs.filter_log_events(logGroupName=group, filterPattern='"500"')
out["filter"] = sorted((e["logStreamName"], e["message"]) for e in filtered["events"])
spaced = logs.filter_log_events(logGroupName=group, filterPattern="[method, path, status=5*, ms]",
                                logStreamNames=["web-1"])
out["filter_fields"] = [e["message"] for e in spaced["events"]]
paginated = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(
    logGroupName=group, PaginationConfig={"PageSize": 2}) for e in page["events"]]
out["filter_paged"] = len(paginated)

# A metric filter through the Logs API turns the events put after it into samples CloudWatch reads back.
logs.put_metric_filter(logGroupName=group, filterName="server-errors", filterPattern="[method, path, status=5*, ms]",
                       metricTransformations=[{"metricName": "ServerErrors", "metricNamespace": "Boto/Logs",
                                               "metricValue": "1", "defaultValue": 0}])
described = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
out["metric_filters"] = [(f["filterName"], f["filterPattern"], f["metricTransformations"][0]["metricValue"])
                         for f in described]
logs.put_log_events(logGroupName=group, logStreamName="web-1",
                    logEvents=[{"timestamp": now + 2, "message": "GET /f 502 8"},
                               {"timestamp": now + 3, "message": "GET /g 200 8"},
                               {"timestamp": now + 4, "message": "GET /h 504 8"}])
cw = session(credentials, config).client("cloudwatch", endpoint_url=endpoint, config=once())
points = cw.get_metric_statistics(Namespace="Boto/Logs", MetricName="ServerErrors", StartTime=now / 1000 - 600,
                                  EndTime=now / 1000 + 600, Period=3600, Statistics=["Sum"])["Datapoints"]
out["filter_metric_sum"] = sum(p["Sum"] for p in points)
logs.delete_metric_filter(logGroupName=group, filterName="server-errors")
out["filters_after_delete"] = len(logs.describe_metric_filters(logGroupName=group)["metricFilters"])

logs.put_retention_policy(logGroupName=group, retentionInDays=7)
out["retention"] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0].get("retentionInDays")

out["errors"] = {
    "exists": error_code(lambda: logs.create_log_group(logGroupName=group)),
    "stream_exists": error_code(lambda: logs.create_log_stream(logGroupName=group, logStreamName="web-1")),
    "no_stream": error_code(lambda: logs.put_log_events(
        logGroupName=group, logStreamName="nope", logEvents=[{"timestamp": now, "message": "x"}])),
    "no_group": error_code(lambda: logs.describe_log_streams(logGroupName="/boto/none")),
    "bad_retention": error_code(lambda: logs.put_retention_policy(logGroupName=group, retentionInDays=8)),
    "bad_pattern": error_code(lambda: logs.filter_log_events(logGroupName=group, filterPattern="[a, b")),
    "platform_group": error_code(lambda: logs.create_log_group(logGroupName="/plumb/mine")),
    "no_filter": error_code(lambda: logs.delete_metric_filter(logGroupName=group, filterName="nope")),
    "bad_filter_value": error_code(lambda: logs.put_metric_filter(
        logGroupName=group, filterName="bad", filterPattern="ERROR",
        metricTransformations=[{"metricName": "m", "metricNamespace": "Boto/Logs", "metricValue": "lots"}])),
}

# StartLiveTail: the events put after the session starts arrive in sessionUpdates, filtered; boto3 reads the event
# stream. The operation's "stream-" host prefix is turned off, as it must be for an endpoint_url.
tail_client = session(credentials, config).client(
    "logs", endpoint_url=endpoint,
    config=once().merge(botocore.config.Config(inject_host_prefix=False, read_timeout=30)))
tail = tail_client.start_live_tail(logGroupIdentifiers=[logs.describe_log_groups(logGroupNamePrefix=group)[
    "logGroups"][0]["arn"].removesuffix(":*")], logEventFilterPattern="ERROR")
stream = tail["responseStream"]
live = {"start": None, "messages": [], "updates": 0}
put_done = False
deadline = time.time() + 20
for event in stream:
    if "sessionStart" in event:
        live["start"] = {k: event["sessionStart"].get(k) for k in ("logGroupIdentifiers", "logEventFilterPattern")}
    if "sessionUpdate" in event:
        live["updates"] += 1
        live["messages"] += [r["message"] for r in event["sessionUpdate"]["sessionResults"]]
        live["sampled"] = event["sessionUpdate"]["sessionMetadata"]["sampled"]
    if live["start"] and not put_done:
        logs.put_log_events(logGroupName=group, logStreamName="web-1", logEvents=[
            {"timestamp": int(time.time() * 1000), "message": "ERROR live one"},
            {"timestamp": int(time.time() * 1000), "message": "INFO live quiet"},
            {"timestamp": int(time.time() * 1000), "message": "ERROR live two"}])
        put_done = True
    if len(live["messages"]) >= 2 or time.time() > deadline:
        break
stream.close()
out["live_tail"] = live
out["errors"]["live_unknown_group"] = error_code(lambda: tail_client.start_live_tail(
    logGroupIdentifiers=["/boto/none"]))
out["errors"]["live_streams_two_groups"] = error_code(lambda: tail_client.start_live_tail(
    logGroupIdentifiers=[group, "/plumb/server"], logStreamNames=["web-1"]))

# DeleteLogGroup: a second group with a metric filter on it goes, filter and all; the first stays.
logs.create_log_group(logGroupName="/boto/doomed")
logs.create_log_stream(logGroupName="/boto/doomed", logStreamName="s")
logs.put_log_events(logGroupName="/boto/doomed", logStreamName="s", logEvents=[{"timestamp": now, "message": "bye"}])
logs.put_metric_filter(logGroupName="/boto/doomed", filterName="doomed-filter", filterPattern="bye",
                       metricTransformations=[{"metricName": "Byes", "metricNamespace": "Boto/Logs",
                                               "metricValue": "1"}])
logs.delete_log_group(logGroupName="/boto/doomed")
out["groups_after_delete"] = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/boto/")[
    "logGroups"]]
out["doomed_filters"] = [f["filterName"] for f in logs.describe_metric_filters()["metricFilters"]]
out["errors"]["delete_again"] = error_code(lambda: logs.delete_log_group(logGroupName="/boto/doomed"))
out["errors"]["delete_audit"] = error_code(lambda: logs.delete_log_group(logGroupName="/plumb/audit"))
print(json.dumps(out, sort_keys=True))
