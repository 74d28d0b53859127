"""A test-only "terraform apply" and hand edits for the end-to-end drift test (tests/drift_emulator.rs).

Usage:
    python apply.py --endpoint URL apply PLAN.json         create the alarms and dashboards in PLAN
    python apply.py --endpoint URL set-threshold NAME VALUE edit one alarm's threshold, as in the console
    python apply.py --endpoint URL delete NAME              delete one alarm
    python apply.py --endpoint URL add NAME                 create one alarm by hand
    python apply.py --endpoint URL set-state NAME STATE...  SetAlarmState to each STATE in turn (a flapping or stuck alarm)
    python apply.py --endpoint URL declare RESOURCES.json   create declared resources, print their attributes

RESOURCES is [{"address": "aws_lambda_function.api", "arguments": {...literal arguments}}, ...]
(aws_lambda_function, aws_db_instance); "tags" are the resource's tags with the provider's
default_tags merged in, as Terraform applies them (the Tagging API lists only tagged resources). The printed JSON maps each reference that `generate --into`
writes ("aws_db_instance.main.identifier", ".arn", ".id", "aws_lambda_function.api.function_name")
to the emulator's value, so the test substitutes them as Terraform would after apply (through
onwatch's own reader: tests/it/declared.rs); an aws_db_instance without `identifier` gets a
generated one, as the AWS provider does.

PLAN is what the test resolved from the generated Terraform with onwatch's own reader:
{"alarms": [onwatch inventory metric alarms], "composite_alarms": [onwatch inventory composite alarms, optional], "dashboards": [{"name": ..., "body": ...}],
 "topics": [onwatch inventory SNS topics, optional], "log_metric_filters": [onwatch inventory metric filters, optional],
 "tags": {the provider's default_tags, put on each topic created, optional}}.
"""

import argparse
import json

import boto3


def client(endpoint, region, service="cloudwatch"):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    return session.client(service, endpoint_url=endpoint)


def put(cw, alarm):
    """Creates an alarm from onwatch's inventory form of it."""
    args = {
        "AlarmName": alarm["name"],
        "EvaluationPeriods": alarm["evaluation_periods"],
        "ComparisonOperator": alarm["comparison_operator"],
        "ActionsEnabled": alarm.get("actions_enabled", True),
        "AlarmActions": alarm.get("alarm_actions", []),
        "OKActions": alarm.get("ok_actions", []),
        "InsufficientDataActions": alarm.get("insufficient_data_actions", []),
        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(alarm.get("dimensions", {}).items())],
    }
    for key, name in [
        ("description", "AlarmDescription"),
        ("namespace", "Namespace"),
        ("metric_name", "MetricName"),
        ("statistic", "Statistic"),
        ("extended_statistic", "ExtendedStatistic"),
        ("period", "Period"),
        ("datapoints_to_alarm", "DatapointsToAlarm"),
        ("threshold", "Threshold"),
        ("treat_missing_data", "TreatMissingData"),
    ]:
        if alarm.get(key) is not None:
            args[name] = alarm[key]
    cw.put_metric_alarm(**args)


def declare(endpoint, region, resources):
    """Creates the declared resources in the emulator; returns {reference: value}."""
    import io
    import zipfile
    values = {}
    for n, resource in enumerate(resources):
        address, arguments = resource["address"], resource.get("arguments", {})
        kind = address.split(".")[0]
        if kind == "aws_lambda_function":
            iam = client(endpoint, region, "iam")
            role = iam.create_role(RoleName=f"onwatch-test-{n}", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as z:
                z.writestr("main.py", "def handler(event, context):\n    return None\n")
            made = client(endpoint, region, "lambda").create_function(
                FunctionName=arguments["function_name"], Role=role, Handler=arguments.get("handler", "main.handler"),
                Runtime=arguments.get("runtime", "python3.12"), Code={"ZipFile": code.getvalue()}, Tags=arguments.get("tags", {}))
            values.update({f"{address}.function_name": made["FunctionName"], f"{address}.arn": made["FunctionArn"], f"{address}.id": made["FunctionName"]})
        elif kind == "aws_db_instance":
            identifier = arguments.get("identifier") or f"terraform-{20261203000000 + n:014d}"
            made = client(endpoint, region, "rds").create_db_instance(
                DBInstanceIdentifier=identifier, Engine=arguments.get("engine", "postgres"), DBInstanceClass=arguments.get("instance_class", "db.t3.micro"),
                AllocatedStorage=int(arguments.get("allocated_storage", 20)), MasterUsername="onwatch", MasterUserPassword="not-a-secret-1",
                Tags=[{"Key": k, "Value": v} for k, v in sorted(arguments.get("tags", {}).items())])["DBInstance"]
            values.update({f"{address}.identifier": made["DBInstanceIdentifier"], f"{address}.id": made["DBInstanceIdentifier"], f"{address}.arn": made["DBInstanceArn"]})
        else:
            raise SystemExit(f"apply.py declare: {address}: resource type {kind} is not supported")
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("command", choices=["apply", "set-threshold", "delete", "add", "set-state", "declare"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    cw = client(args.endpoint, args.region)
    if args.command == "apply":
        with open(args.args[0]) as f:
            plan = json.load(f)
        for alarm in plan["alarms"]:
            put(cw, alarm)
        # Composite alarms after the alarms their rules name, a roll-up's parts before its parent.
        for composite in sorted(plan.get("composite_alarms", []), key=lambda c: "-member-" not in c["name"]):
            cw.put_composite_alarm(AlarmName=composite["name"], AlarmRule=composite["alarm_rule"],
                                   ActionsEnabled=composite.get("actions_enabled", True),
                                   AlarmActions=composite.get("alarm_actions", []), OKActions=composite.get("ok_actions", []))
        for dashboard in plan["dashboards"]:
            cw.put_dashboard(DashboardName=dashboard["name"], DashboardBody=dashboard["body"])
        sns, logs = client(args.endpoint, args.region, "sns"), client(args.endpoint, args.region, "logs")
        for topic in plan.get("topics", []):
            tags = [{"Key": k, "Value": v} for k, v in sorted(plan.get("tags", {}).items())]
            arn = sns.create_topic(Name=topic["arn"].rsplit(":", 1)[1], Tags=tags)["TopicArn"]
            for subscription in topic["subscriptions"]:
                sns.subscribe(TopicArn=arn, Protocol=subscription["protocol"], Endpoint=subscription["endpoint"])
        for f in plan.get("log_metric_filters", []):
            logs.put_metric_filter(logGroupName=f["log_group"], filterName=f["name"], filterPattern=f["pattern"],
                                   metricTransformations=[{"metricName": m["name"], "metricNamespace": m["namespace"], "metricValue": "1"} for m in f["metrics"]])
        print(json.dumps({"alarms": len(plan["alarms"]), "composite_alarms": len(plan.get("composite_alarms", [])), "dashboards": len(plan["dashboards"]), "log_metric_filters": len(plan.get("log_metric_filters", []))}))
    elif args.command == "declare":
        with open(args.args[0]) as f:
            print(json.dumps(declare(args.endpoint, args.region, json.load(f)), sort_keys=True))
    elif args.command == "set-threshold":
        name, value = args.args
        described = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        keep = ["AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions",
                "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "EvaluationPeriods",
                "DatapointsToAlarm", "ComparisonOperator", "TreatMissingData"]
        edited = {k: described[k] for k in keep if described.get(k) not in (None, "")}
        edited["Threshold"] = float(value)
        cw.put_metric_alarm(**edited)
    elif args.command == "set-state":
        name, states = args.args[0], args.args[1:]
        for state in states:
            cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the onwatch test suite")
    elif args.command == "delete":
        cw.delete_alarms(AlarmNames=args.args)
    elif args.command == "add":
        cw.put_metric_alarm(AlarmName=args.args[0], Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average",
                            Period=300, EvaluationPeriods=1, Threshold=99.0, ComparisonOperator="GreaterThanThreshold")


if __name__ == "__main__":
    main()
