"""A scheduled handler (the classification seed's EventBridge rule, every 3 minutes): reads the comment API's
traffic from CloudWatch and publishes a digest to an SNS topic, both through boto3.

Plain Lambda code: boto3 finds the endpoint (AWS_ENDPOINT_URL) and the credentials of the function's role in its
environment, as on AWS. DIGEST_TOPIC_ARN names the topic; FUNCTIONS the functions to report on.
"""
import json
import os
from datetime import datetime, timedelta, timezone

import boto3

CLOUDWATCH = boto3.client("cloudwatch")
SNS = boto3.client("sns")
TOPIC = os.environ["DIGEST_TOPIC_ARN"]
FUNCTIONS = [name for name in os.environ.get("FUNCTIONS", "comments-create,comments-list").split(",") if name]
WINDOW = timedelta(minutes=int(os.environ.get("WINDOW_MINUTES", "3")))


def total(metric, function, start, end):
    answer = CLOUDWATCH.get_metric_statistics(
        Namespace="Plumb/Functions", MetricName=metric, Dimensions=[{"Name": "Function", "Value": function}],
        StartTime=start, EndTime=end, Period=60, Statistics=["Sum"])
    return int(sum(point["Sum"] for point in answer["Datapoints"]))


def handler(event, context):
    # EventBridge's scheduled event: the rule's time is the end of the window.
    end = datetime.fromisoformat(event["time"].replace("Z", "+00:00")) if "time" in event else datetime.now(timezone.utc)
    start = end - WINDOW
    report = {name: {"invocations": total("Invocations", name, start, end), "errors": total("Errors", name, start, end)}
              for name in FUNCTIONS}
    lines = [f"{name}: {counts['invocations']} calls, {counts['errors']} errors" for name, counts in report.items()]
    message = f"Comment API, {start:%H:%M}–{end:%H:%M} UTC\n" + "\n".join(lines)
    sent = SNS.publish(TopicArn=TOPIC, Subject="Comment API digest", Message=message,
                       MessageAttributes={"rule": {"DataType": "String",
                                                   "StringValue": (event.get("resources") or ["manual"])[0]}})
    print(json.dumps({"digest": report, "message_id": sent["MessageId"]}))
    return {"messageId": sent["MessageId"], "report": report}
