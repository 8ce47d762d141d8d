"""Drives Plumb's CloudWatch alarm operations with real boto3 and prints one JSON object of what it saw.

    aws_alarms.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import json
import sys
import time

from aws_common import error_code, once, session

endpoint, credentials, config = sys.argv[1:4]
plumb = session(credentials, config)
cw = plumb.client("cloudwatch", endpoint_url=endpoint, config=once())
raw = plumb.client("cloudwatch", endpoint_url=endpoint, config=once(validate=False))
out = {}


topic = "arn:aws:sns:us-east-1:000000000000:ops"
# A high-resolution alarm (10 s periods, evaluated every 10 s) on a series the script then feeds.
cw.put_metric_alarm(
    AlarmName="boto-high", AlarmDescription="latency over 100 ms", Namespace="Boto/Alarm", MetricName="Latency",
    Dimensions=[{"Name": "Service", "Value": "api"}], Statistic="Maximum", Period=10, EvaluationPeriods=1,
    Threshold=100, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
    AlarmActions=[topic], OKActions=[topic])
described = cw.describe_alarms(AlarmNames=["boto-high"])["MetricAlarms"]
out["described"] = {k: described[0][k] for k in ("AlarmName", "AlarmArn", "Namespace", "MetricName", "Dimensions",
                                                  "Statistic", "Period", "EvaluationPeriods", "Threshold",
                                                  "ComparisonOperator", "TreatMissingData", "AlarmActions",
                                                  "StateValue", "AlarmDescription")}

# A metric-math alarm on the same series: twice the maximum, over 100.
latency = {"Namespace": "Boto/Alarm", "MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}]}
cw.put_metric_alarm(
    AlarmName="boto-math", Metrics=[
        {"Id": "m1", "MetricStat": {"Metric": latency, "Period": 10, "Stat": "Maximum"}, "ReturnData": False},
        {"Id": "e1", "Expression": "m1 * 2", "Label": "doubled", "ReturnData": True}],
    EvaluationPeriods=1, Threshold=100, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
math = cw.describe_alarms(AlarmNames=["boto-math"])["MetricAlarms"][0]
out["math_described"] = {"Metrics": math.get("Metrics"), "has_metric_name": "MetricName" in math,
                         "ActionsEnabled": math["ActionsEnabled"]}

# Data over the threshold: both alarms go into ALARM by their own evaluation.
deadline = time.time() + 60
state = None
while time.time() < deadline:
    cw.put_metric_data(Namespace="Boto/Alarm", MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "api"}], "Value": 500,
         "StorageResolution": 1}])
    states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms(
        AlarmNames=["boto-high", "boto-math"])["MetricAlarms"]}
    state = states["boto-high"]
    if set(states.values()) == {"ALARM"}:
        break
    time.sleep(2)
out["evaluated_state"] = state
out["math_state"] = states["boto-math"]
out["for_metric"] = [a["AlarmName"] for a in cw.describe_alarms_for_metric(
    Namespace="Boto/Alarm", MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "api"}])["MetricAlarms"]]

cw.put_composite_alarm(AlarmName="boto-both", AlarmRule="ALARM(boto-high)", AlarmActions=[topic])
composite = cw.describe_alarms(AlarmNames=["boto-both"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
out["composite"] = {k: composite[0][k] for k in ("AlarmName", "AlarmRule")} if composite else None
out["default_types"] = [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="boto-")["MetricAlarms"]]

cw.set_alarm_state(AlarmName="boto-high", StateValue="OK", StateReason="set by boto3")
after = cw.describe_alarms(AlarmNames=["boto-high"])["MetricAlarms"][0]
out["set_state"] = [after["StateValue"], after["StateReason"]]
history = cw.describe_alarm_history(AlarmName="boto-high", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
out["history"] = [h["HistorySummary"] for h in history]
page = cw.describe_alarms(MaxRecords=1, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
out["paged"] = [len(page["MetricAlarms"]) + len(page["CompositeAlarms"]), "NextToken" in page]



def actions_taken():
    return len(cw.describe_alarm_history(AlarmName="boto-high", HistoryItemType="Action")["AlarmHistoryItems"])


# Actions disabled: the alarm still changes state but notifies nobody; enabled again, it does.
before = actions_taken()
cw.disable_alarm_actions(AlarmNames=["boto-high", "no-such-alarm"])
out["disabled"] = cw.describe_alarms(AlarmNames=["boto-high"])["MetricAlarms"][0]["ActionsEnabled"]
cw.set_alarm_state(AlarmName="boto-high", StateValue="ALARM", StateReason="while disabled")
cw.set_alarm_state(AlarmName="boto-high", StateValue="OK", StateReason="reset while disabled")
time.sleep(3)
out["actions_while_disabled"] = actions_taken() - before
cw.enable_alarm_actions(AlarmNames=["boto-high"])
out["enabled"] = cw.describe_alarms(AlarmNames=["boto-high"])["MetricAlarms"][0]["ActionsEnabled"]
cw.set_alarm_state(AlarmName="boto-high", StateValue="ALARM", StateReason="enabled again")
deadline = time.time() + 20
while actions_taken() == before and time.time() < deadline:
    time.sleep(0.5)
out["actions_after_enable"] = actions_taken() - before
cw.set_alarm_state(AlarmName="boto-high", StateValue="OK", StateReason="set by boto3")

out["errors"] = {
    "both_statistics": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Namespace="Boto/Alarm", MetricName="Latency", Statistic="Maximum",
        ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanThreshold")),
    "bad_action": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Namespace="Boto/Alarm", MetricName="Latency", Statistic="Maximum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=["arn:aws:lambda:us-east-1:000000000000:function:f"])),
    "bad_period": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Namespace="Boto/Alarm", MetricName="Latency", Statistic="Maximum", Period=7,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")),
    "unknown_set_state": error_code(lambda: raw.set_alarm_state(
        AlarmName="nope", StateValue="OK", StateReason="x")),
    "unknown_delete": error_code(lambda: raw.delete_alarms(AlarmNames=["nope"])),
    "math_with_metric": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Namespace="Boto/Alarm", MetricName="Latency", Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": latency, "Period": 10, "Stat": "Maximum"}}],
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")),
    "math_two_returned": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": latency, "Period": 10, "Stat": "Maximum"}},
            {"Id": "e1", "Expression": "m1 * 2"}],
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")),
    "math_mixed_periods": error_code(lambda: raw.put_metric_alarm(
        AlarmName="bad", Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": latency, "Period": 10, "Stat": "Maximum"}, "ReturnData": False},
            {"Id": "m2", "MetricStat": {"Metric": latency, "Period": 60, "Stat": "Minimum"}, "ReturnData": False},
            {"Id": "e1", "Expression": "m1 + m2"}],
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")),
    "disable_empty": error_code(lambda: raw.disable_alarm_actions(AlarmNames=[])),
}
# All or nothing: one unknown name, or an alarm a composite outside the call reads, deletes nothing.
out["errors"]["delete_with_unknown"] = error_code(lambda: raw.delete_alarms(AlarmNames=["boto-high", "nope"]))
out["errors"]["delete_read_by_composite"] = error_code(lambda: raw.delete_alarms(AlarmNames=["boto-high"]))
out["still_there"] = [a["AlarmName"] for a in cw.describe_alarms(
    AlarmNames=["boto-high", "boto-both"], AlarmTypes=["MetricAlarm", "CompositeAlarm"])["MetricAlarms"]]
cw.delete_alarms(AlarmNames=["boto-high", "boto-both", "boto-high", "boto-math"])
after = cw.describe_alarms(AlarmNamePrefix="boto-", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
out["after_delete"] = [a["AlarmName"] for a in after["MetricAlarms"] + after["CompositeAlarms"]]
print(json.dumps(out, sort_keys=True))
