"""One CloudWatch call through real boto3 with the given key: prints {"ok": true} or {"code", "status", "message"}.

    aws_call.py ENDPOINT ACCESS_KEY_ID SECRET put|list|audit-retention|describe-alarms|put-alarm NAME
    aws_call.py ENDPOINT ACCESS_KEY_ID SECRET invoke FUNCTION
    aws_call.py ENDPOINT ACCESS_KEY_ID SECRET subscribe-lambda TOPIC:FUNCTION
"""
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

endpoint, key, secret, operation, namespace = sys.argv[1:6]
client = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                      aws_secret_access_key=secret,
                      config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
try:
    if operation == "put":
        client.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "m", "Value": 1}])
    elif operation == "describe-alarms":
        client.describe_alarms(AlarmNamePrefix=namespace)
    elif operation == "put-alarm":
        client.put_metric_alarm(AlarmName=namespace, Namespace=namespace, MetricName="m", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    elif operation == "invoke":
        boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                     aws_secret_access_key=secret).invoke(FunctionName=namespace, Payload=b'{"text": "ok"}')
    elif operation == "subscribe-lambda":
        topic, function = namespace.split(":")
        boto3.client("sns", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                     aws_secret_access_key=secret).subscribe(
            TopicArn="arn:aws:sns:us-east-1:000000000000:" + topic, Protocol="lambda", Endpoint=function)
    elif operation == "audit-retention":
        boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                     aws_secret_access_key=secret).put_retention_policy(logGroupName="/plumb/audit",
                                                                        retentionInDays=1)
    else:
        client.list_metrics(Namespace=namespace)
    print(json.dumps({"ok": True}))
except botocore.exceptions.ClientError as error:
    print(json.dumps({"code": error.response["Error"]["Code"],
                      "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
                      "message": error.response["Error"].get("Message", "")}))
