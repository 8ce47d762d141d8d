"""Sensor findings: subscribed to the sensors plugin's findings topic, each finding (SNS's Lambda event) becomes a
CloudWatch datum (namespace Sensors/Findings, metric Rate, dimension Detector) and, when it stands far enough out
(z at least ALERT_Z), a short alert on the ALERT_TOPIC_ARN topic. A message that is not a finding raises: Lambda's
async retries, then the function's on-failure topic, take it.
"""
import json
import os

import boto3

CLOUDWATCH = boto3.client("cloudwatch")
SNS = boto3.client("sns")
ALERT_TOPIC = os.environ.get("ALERT_TOPIC_ARN")
ALERT_Z = float(os.environ.get("ALERT_Z", "4"))


def handler(event, context):
    alerts = 0
    for record in event["Records"]:
        message = record["Sns"]["Message"]
        try:
            finding = json.loads(message)
        except ValueError:
            finding = None
        if not isinstance(finding, dict) or "detector" not in finding or "rate" not in finding:
            raise ValueError(f"not a sensor finding: {message[:200]}")
        detector, rate, z = str(finding["detector"]), float(finding["rate"]), float(finding.get("z", 0))
        CLOUDWATCH.put_metric_data(Namespace="Sensors/Findings", MetricData=[{
            "MetricName": "Rate", "Dimensions": [{"Name": "Detector", "Value": detector}], "Value": rate}])
        print(json.dumps({"finding": finding.get("findingId"), "detector": detector, "kind": finding.get("kind"),
                          "rate": rate, "z": z}))
        if ALERT_TOPIC and z >= ALERT_Z:
            SNS.publish(TopicArn=ALERT_TOPIC, Subject=f"Sensor {detector}: {finding.get('kind', 'finding')}"[:100],
                        Message=f"Detector {detector} reads {rate}/s, z = {z} ({finding.get('windowStart')} to "
                                f"{finding.get('windowEnd')}).")
            alerts += 1
    return {"findings": len(event["Records"]), "alerts": alerts}
