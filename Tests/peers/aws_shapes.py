"""Makes the same boto3 calls against Plumb and against moto's server mode (PyPI `moto`, started here on loopback)
and compares the shapes of the answers as boto3 parsed them: for each call, every member path with its Python type.
Prints one JSON object: per call, the paths whose types differ, the paths only moto answers, the paths only Plumb
answers, and the error codes where a call is refused.

    aws_shapes.py PLUMB_ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

from aws_common import once, session

plumb_endpoint, credentials, config = sys.argv[1:4]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


port = free_port()
moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
moto_endpoint = "http://127.0.0.1:%d" % port
deadline = time.time() + 60
while time.time() < deadline:
    try:
        urllib.request.urlopen(moto_endpoint + "/moto-api/").close()
        break
    except Exception:
        time.sleep(0.2)

plumb = session(credentials, config)
moto_session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def clients(service):
    return (plumb.client(service, endpoint_url=plumb_endpoint, config=once()),
            moto_session.client(service, endpoint_url=moto_endpoint, config=once()))


def shape(value, path="", into=None):
    """Every member path of a parsed answer with its type; lists by their first item (`[]`)."""
    into = {} if into is None else into
    if isinstance(value, dict):
        for key, item in value.items():
            if path == "" and key == "ResponseMetadata":
                continue
            shape(item, path + "." + key if path else key, into)
    elif isinstance(value, list):
        into[path] = "list"
        if value:
            shape(value[0], path + "[]", into)
    else:
        into[path] = type(value).__name__
    return into


report = {}


def compare(name, plumb_call, moto_call):
    answers = []
    for call in (plumb_call, moto_call):
        try:
            answers.append(("ok", shape(call())))
        except Exception as error:  # a refusal is compared by its code
            code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
            answers.append(("error", code))
    (plumb_kind, plumb_shape), (moto_kind, moto_shape) = answers
    if plumb_kind != "ok" or moto_kind != "ok":
        report[name] = {"plumb": plumb_shape if plumb_kind == "error" else "ok",
                        "moto": moto_shape if moto_kind == "error" else "ok"}
        return
    report[name] = {
        "type_differs": sorted(p for p in plumb_shape.keys() & moto_shape.keys() if plumb_shape[p] != moto_shape[p]),
        "only_moto": sorted(moto_shape.keys() - plumb_shape.keys()),
        "only_plumb": sorted(plumb_shape.keys() - moto_shape.keys()),
        "common": len(plumb_shape.keys() & moto_shape.keys()),
    }


def both(service, name, call):
    p, m = clients(service)
    compare(name, lambda: call(p), lambda: call(m))


now = int(time.time())
dims = [{"Name": "Service", "Value": "api"}]
datums = [{"MetricName": "Latency", "Dimensions": dims, "Value": v, "Unit": "Milliseconds", "Timestamp": now - 120}
          for v in (12.5, 37.5)]
both("cloudwatch", "PutMetricData", lambda c: c.put_metric_data(Namespace="Shape/Test", MetricData=datums))
both("cloudwatch", "ListMetrics", lambda c: c.list_metrics(Namespace="Shape/Test"))
both("cloudwatch", "GetMetricStatistics", lambda c: c.get_metric_statistics(
    Namespace="Shape/Test", MetricName="Latency", Dimensions=dims, StartTime=now - 600, EndTime=now + 60, Period=60,
    Statistics=["SampleCount", "Average", "Maximum"]))
both("cloudwatch", "GetMetricData", lambda c: c.get_metric_data(
    StartTime=now - 600, EndTime=now + 60, MetricDataQueries=[{"Id": "m", "MetricStat": {
        "Metric": {"Namespace": "Shape/Test", "MetricName": "Latency", "Dimensions": dims}, "Period": 60,
        "Stat": "Maximum"}}]))
alarm = dict(AlarmName="shape", Namespace="Shape/Test", MetricName="Latency", Dimensions=dims, Statistic="Maximum",
             Period=60, EvaluationPeriods=1, Threshold=30, ComparisonOperator="GreaterThanThreshold",
             AlarmActions=["arn:aws:sns:us-east-1:000000000000:ops"])
both("cloudwatch", "PutMetricAlarm", lambda c: c.put_metric_alarm(**alarm))
both("cloudwatch", "DescribeAlarms", lambda c: c.describe_alarms(AlarmNames=["shape"]))
both("cloudwatch", "DescribeAlarmsForMetric", lambda c: c.describe_alarms_for_metric(
    Namespace="Shape/Test", MetricName="Latency", Dimensions=dims))
both("cloudwatch", "SetAlarmState", lambda c: c.set_alarm_state(
    AlarmName="shape", StateValue="ALARM", StateReason="shape test"))
both("cloudwatch", "DescribeAlarmHistory", lambda c: c.describe_alarm_history(AlarmName="shape"))
both("cloudwatch", "PutCompositeAlarm", lambda c: c.put_composite_alarm(
    AlarmName="shape-composite", AlarmRule='ALARM("shape")'))
both("cloudwatch", "DescribeAlarms(composite)", lambda c: c.describe_alarms(
    AlarmNames=["shape-composite"], AlarmTypes=["CompositeAlarm"]))
both("cloudwatch", "DeleteAlarms", lambda c: c.delete_alarms(AlarmNames=["shape-composite", "shape"]))
both("cloudwatch", "SetAlarmState(unknown)", lambda c: c.set_alarm_state(
    AlarmName="nope", StateValue="OK", StateReason="x"))

both("logs", "CreateLogGroup", lambda c: c.create_log_group(logGroupName="/shape/app"))
both("logs", "CreateLogStream", lambda c: c.create_log_stream(logGroupName="/shape/app", logStreamName="s1"))
both("logs", "PutLogEvents", lambda c: c.put_log_events(logGroupName="/shape/app", logStreamName="s1", logEvents=[
    {"timestamp": now * 1000 - 1000, "message": "GET /a 500 12"}, {"timestamp": now * 1000, "message": "GET /b 200 3"}]))
both("logs", "DescribeLogGroups", lambda c: c.describe_log_groups(logGroupNamePrefix="/shape/"))
both("logs", "DescribeLogStreams", lambda c: c.describe_log_streams(logGroupName="/shape/app"))
both("logs", "GetLogEvents", lambda c: c.get_log_events(
    logGroupName="/shape/app", logStreamName="s1", startFromHead=True))
both("logs", "FilterLogEvents", lambda c: c.filter_log_events(logGroupName="/shape/app", filterPattern="500"))
both("logs", "PutRetentionPolicy", lambda c: c.put_retention_policy(logGroupName="/shape/app", retentionInDays=7))
both("logs", "PutMetricFilter", lambda c: c.put_metric_filter(
    logGroupName="/shape/app", filterName="errors", filterPattern="500", metricTransformations=[
        {"metricName": "Errors", "metricNamespace": "Shape/Logs", "metricValue": "1"}]))
both("logs", "DescribeMetricFilters", lambda c: c.describe_metric_filters(logGroupName="/shape/app"))
both("logs", "CreateLogGroup(exists)", lambda c: c.create_log_group(logGroupName="/shape/app"))

both("sns", "CreateTopic", lambda c: c.create_topic(Name="shape"))
both("sns", "ListTopics", lambda c: c.list_topics())


def topic(client):
    """The topic's ARN as that server names it (moto's account differs)."""
    return client.create_topic(Name="shape")["TopicArn"]


both("sns", "GetTopicAttributes", lambda c: c.get_topic_attributes(TopicArn=topic(c)))
both("sns", "Subscribe", lambda c: c.subscribe(TopicArn=topic(c), Protocol="email", Endpoint="ops@example.com"))
both("sns", "ListSubscriptionsByTopic", lambda c: c.list_subscriptions_by_topic(TopicArn=topic(c)))
both("sns", "ListSubscriptions", lambda c: c.list_subscriptions())
both("sns", "Publish", lambda c: c.publish(TopicArn=topic(c), Message="hi", Subject="s"))
both("sns", "Publish(unknown topic)", lambda c: c.publish(TopicArn=topic(c) + "-nope", Message="hi"))
both("sns", "Subscribe(sqs)", lambda c: c.subscribe(TopicArn=topic(c), Protocol="sqs", Endpoint="x"))

# SIGKILL: a test runner's children may inherit a signal mask that blocks SIGTERM.
moto.kill()
moto.wait()
print(json.dumps(report))
