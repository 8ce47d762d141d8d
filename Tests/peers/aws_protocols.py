"""Drives Plumb's CloudWatch with real botocore in one of CloudWatch's other two protocols — the Query protocol older
clients send (form bodies, XML answers) or Smithy RPC v2 CBOR (what the Java and Go SDKs send) — by giving botocore
its own CloudWatch model with only that protocol listed (through AWS_DATA_PATH), so botocore's own serializers and
parsers make and read every request. Then one request written by hand with cbor2 (the raw RPC v2 form). Prints one
JSON object of what it saw.

    aws_protocols.py query|smithy-rpc-v2-cbor ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import datetime
import json
import os
import sys
import tempfile
import time
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.loaders

from aws_common import once, refused, session, wrong_secret

protocol, endpoint, credentials, config = sys.argv[1:5]

# CloudWatch's model as botocore ships it, with `protocols` cut to the one under test.
loader = botocore.loaders.Loader()
model = loader.load_service_model("cloudwatch", "service-2")
version = model["metadata"]["apiVersion"]
model["metadata"]["protocols"] = [protocol]
model["metadata"]["protocol"] = protocol
data_path = tempfile.mkdtemp(prefix="plumb-aws-model-")
os.makedirs(os.path.join(data_path, "cloudwatch", version))
with open(os.path.join(data_path, "cloudwatch", version, "service-2.json"), "w") as file:
    json.dump(model, file)
os.environ["AWS_DATA_PATH"] = data_path

plumb = session(credentials, config)
cw = plumb.client("cloudwatch", endpoint_url=endpoint, config=once())
out = {"protocol": cw.meta.service_model.resolved_protocol}
seen = {}


def capture(request, **_):
    seen["path"] = request.url.split("?")[0][len(endpoint):] or "/"
    seen["content_type"] = request.headers.get("Content-Type")
    if isinstance(seen["content_type"], bytes):
        seen["content_type"] = seen["content_type"].decode()


cw.meta.events.register("before-send.cloudwatch.*", capture)



namespace = "Proto/" + protocol
now = int(time.time())
cw.put_metric_data(
    Namespace=namespace,
    MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "42"}], "Value": 12.5,
         "Unit": "Milliseconds", "Timestamp": now - 120},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "42"}], "Value": 37.5,
         "Unit": "Milliseconds", "Timestamp": now - 120},
        {"MetricName": "Requests", "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4},
         "Timestamp": now - 120},
        {"MetricName": "Sizes", "Values": [1, 2, 3], "Counts": [1, 1, 2], "Timestamp": now - 120},
    ],
)
out["put"] = dict(seen)

listed = cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Service", "Value": "42"}])
out["list"] = [[m["MetricName"], m["Dimensions"]] for m in listed["Metrics"]]

stats = cw.get_metric_statistics(
    Namespace=namespace, MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "42"}],
    StartTime=now - 600, EndTime=now + 60, Period=60, Statistics=["SampleCount", "Average", "Maximum"])
out["stats"] = [{"SampleCount": p["SampleCount"], "Average": p["Average"], "Maximum": p["Maximum"],
                 "Unit": p["Unit"], "TimestampIsTime": isinstance(p["Timestamp"], datetime.datetime)}
                for p in stats["Datapoints"]]
percentile = cw.get_metric_statistics(
    Namespace=namespace, MetricName="Sizes", StartTime=now - 600, EndTime=now + 60, Period=60,
    ExtendedStatistics=["p50"])
out["p50"] = [p["ExtendedStatistics"] for p in percentile["Datapoints"]]

data = cw.get_metric_data(
    StartTime=now - 600, EndTime=now + 60,
    MetricDataQueries=[
        {"Id": "sum", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Requests"}, "Period": 60,
                                     "Stat": "Sum"}, "ReturnData": False},
        {"Id": "doubled", "Expression": "sum * 2"},
    ])
out["data"] = [{"Id": r["Id"], "Values": r["Values"], "TimestampsAreTimes":
                all(isinstance(t, datetime.datetime) for t in r["Timestamps"]), "StatusCode": r["StatusCode"]}
               for r in data["MetricDataResults"]]

cw.put_metric_alarm(
    AlarmName="proto-" + protocol, Namespace=namespace, MetricName="Latency",
    Dimensions=[{"Name": "Service", "Value": "42"}], Statistic="Maximum", Period=60, EvaluationPeriods=2,
    DatapointsToAlarm=1, Threshold=30.5, ComparisonOperator="GreaterThanThreshold",
    TreatMissingData="notBreaching", ActionsEnabled=True, OKActions=[])
described = cw.describe_alarms(AlarmNames=["proto-" + protocol])["MetricAlarms"]
out["empty_list_call"] = len(cw.describe_alarms(AlarmNames=[], AlarmNamePrefix="proto-")["MetricAlarms"])
out["alarm"] = [{"Name": a["AlarmName"], "Period": a["Period"], "EvaluationPeriods": a["EvaluationPeriods"],
                 "Threshold": a["Threshold"], "ActionsEnabled": a["ActionsEnabled"],
                 "Dimensions": a["Dimensions"],
                 "UpdatedIsTime": isinstance(a["StateUpdatedTimestamp"], datetime.datetime)} for a in described]
cw.set_alarm_state(AlarmName="proto-" + protocol, StateValue="OK", StateReason="set by " + protocol)
history = cw.describe_alarm_history(AlarmName="proto-" + protocol, HistoryItemType="StateUpdate")
out["history"] = [{"Summary": h["HistorySummary"], "TimestampIsTime": isinstance(h["Timestamp"], datetime.datetime)}
                  for h in history["AlarmHistoryItems"]]
cw.delete_alarms(AlarmNames=["proto-" + protocol])

out["refused"] = {
    "unknown_alarm": refused(lambda: cw.set_alarm_state(AlarmName="no-such", StateValue="OK", StateReason="x")),
    "aws_namespace": refused(lambda: cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "x", "Value": 1}])),
    "stats_and_extended": refused(lambda: cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", StartTime=now - 60, EndTime=now, Period=60,
        Statistics=["Sum"], ExtendedStatistics=["p50"])),
}

# A wrong secret: refused with AWS's code, in the protocol's error form.
wrong = wrong_secret(plumb, "cloudwatch", endpoint)
out["refused"]["bad_signature"] = refused(lambda: wrong.list_metrics(Namespace=namespace))

if protocol == "smithy-rpc-v2-cbor":
    # The raw form: a CBOR body made with cbor2, signed with botocore's SigV4 signer, the answer read with cbor2.
    import cbor2

    credentials_now = plumb.get_credentials()
    region = plumb.region_name or "us-east-1"

    def raw(operation, body):
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=endpoint + "/service/GraniteServiceVersion20100801/operation/" + operation,
            data=cbor2.dumps(body),
            headers={"Content-Type": "application/cbor", "Accept": "application/cbor",
                     "smithy-protocol": "rpc-v2-cbor"})
        botocore.auth.SigV4Auth(credentials_now, "monitoring", region).add_auth(request)
        prepared = request.prepare()
        http = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
        try:
            with urllib.request.urlopen(http) as answer:
                return answer.status, dict(answer.headers), cbor2.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), cbor2.loads(error.read())

    stamp = datetime.datetime.fromtimestamp(now - 60, tz=datetime.timezone.utc)
    status, headers, body = raw("PutMetricData", {
        "Namespace": namespace,
        "MetricData": [{"MetricName": "Raw", "Value": 7.25, "Timestamp": cbor2.CBORTag(1, now - 60),
                        "Dimensions": [{"Name": "Kind", "Value": "cbor2"}]},
                       {"MetricName": "Raw", "Value": 2.75, "Timestamp": stamp,
                        "Dimensions": [{"Name": "Kind", "Value": "cbor2"}]}]})
    out["raw_put"] = {"status": status, "smithy_protocol": headers.get("smithy-protocol"), "body": body}
    status, headers, body = raw("GetMetricStatistics", {
        "Namespace": namespace, "MetricName": "Raw", "Dimensions": [{"Name": "Kind", "Value": "cbor2"}],
        "StartTime": cbor2.CBORTag(1, now - 600), "EndTime": cbor2.CBORTag(1, now + 60), "Period": 60,
        "Statistics": ["Sum", "SampleCount"]})
    out["raw_stats"] = {"status": status, "points": [
        {"Sum": p["Sum"], "SampleCount": p["SampleCount"],
         "TimestampTagged": isinstance(p["Timestamp"], datetime.datetime)} for p in body.get("Datapoints", [])]}
    status, headers, body = raw("PutMetricData", {"Namespace": namespace, "MetricData": [
        {"MetricName": "Raw", "Value": 1, "Dimensions": [{"Name": "", "Value": "x"}]}]})
    out["raw_refused"] = {"status": status, "type": body.get("__type"), "query_error": headers.get("x-amzn-query-error")}

print(json.dumps(out, default=str))
