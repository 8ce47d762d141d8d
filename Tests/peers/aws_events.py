"""Drives Plumb's EventBridge with real boto3 and the aws CLI: a scheduled rule with a Lambda target and its Input,
the plugins' own schedules as managed rules, and EventBridge's refusals. Prints one JSON object of what it saw; the
rule is left in place (enabled, one target) for the test to see it fire, under the name `every-minute`.

    aws_events.py ENDPOINT CREDENTIALS_FILE CONFIG_FILE
"""
import json
import subprocess
import sys

from aws_common import once, refused, session, wrong_secret

endpoint, credentials, config = sys.argv[1:4]
plumb = session(credentials, config)
events = plumb.client("events", endpoint_url=endpoint, config=once())
out = {}
function_arn = "arn:aws:lambda:us-east-1:000000000000:function:sentiment.classify"

out["rule_arn"] = events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)",
                                  Description="classify on a schedule")["RuleArn"]
put = events.put_targets(Rule="every-minute", Targets=[
    {"Id": "classify", "Arn": function_arn, "Input": json.dumps({"text": "scheduled by EventBridge, lovely"})},
    {"Id": "missing", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:no-such"},
    {"Id": "not-json", "Arn": function_arn, "Input": "{not json"},
])
out["put_targets"] = {"failed": put["FailedEntryCount"],
                      "failed_ids": sorted(entry["TargetId"] for entry in put["FailedEntries"])}
out["targets"] = [[t["Id"], t["Arn"], t.get("Input")] for t in
                  events.list_targets_by_rule(Rule="every-minute")["Targets"]]
described = events.describe_rule(Name="every-minute")
out["described"] = {k: described.get(k) for k in ["Name", "Arn", "State", "ScheduleExpression", "Description"]}
rules = events.list_rules()["Rules"]
out["rules"] = {r["Name"]: {"ScheduleExpression": r.get("ScheduleExpression"), "ManagedBy": r.get("ManagedBy"),
                            "State": r["State"]} for r in rules}
events.disable_rule(Name="every-minute")
out["disabled_state"] = events.describe_rule(Name="every-minute")["State"]
events.enable_rule(Name="every-minute")
# A rule put again keeps its targets.
events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)", Description="classify on a schedule")
out["targets_after_put_again"] = len(events.list_targets_by_rule(Rule="every-minute")["Targets"])

# A second rule: made, given a target, the target removed, deleted.
events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)")
events.put_targets(Rule="nightly", Targets=[{"Id": "t", "Arn": function_arn}])
out["refused"] = {
    "delete_with_targets": refused(lambda: events.delete_rule(Name="nightly")),
    "event_pattern": refused(lambda: events.put_rule(Name="pattern", EventPattern='{"source": ["aws.ec2"]}')),
    "bad_rate": refused(lambda: events.put_rule(Name="bad", ScheduleExpression="rate(0 minutes)")),
    "bad_cron": refused(lambda: events.put_rule(Name="bad", ScheduleExpression="cron(0 3 * * * *)")),
    "unknown_rule": refused(lambda: events.describe_rule(Name="no-such-rule")),
    "targets_of_unknown": refused(lambda: events.put_targets(Rule="no-such-rule", Targets=[
        {"Id": "t", "Arn": function_arn}])),
    "bad_name": refused(lambda: events.put_rule(Name="bad name!", ScheduleExpression="rate(5 minutes)")),
    "bad_signature": refused(lambda: wrong_secret(plumb, "events", endpoint).list_rules()),
}
managed = next((name for name in out["rules"] if name.startswith("plumb.")), None)
out["managed"] = managed
if managed:
    out["refused"]["delete_managed"] = refused(lambda: events.delete_rule(Name=managed))
    out["managed_targets"] = [t["Arn"] for t in events.list_targets_by_rule(Rule=managed)["Targets"]]
removed = events.remove_targets(Rule="nightly", Ids=["t"])
out["removed_failed"] = removed["FailedEntryCount"]
events.delete_rule(Name="nightly")
out["after_delete"] = "nightly" in [r["Name"] for r in events.list_rules()["Rules"]]

cli = subprocess.run([sys.executable, "-m", "awscli", "--profile", "plumb", "--endpoint-url", endpoint, "events",
                      "list-rules", "--name-prefix", "every"], capture_output=True, text=True, timeout=60)
out["cli"] = {"status": cli.returncode, "rules": [r["Name"] for r in json.loads(cli.stdout or "{}").get("Rules", [])],
              "stderr": cli.stderr[-300:]}
print(json.dumps(out))
