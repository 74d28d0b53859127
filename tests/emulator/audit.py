"""Deploys the audit pipeline that `onwatch generate` wrote to the emulator and runs events through it,
for tests/audit_emulator.rs. The test reads the generated audit.tf and hands this script what it
declares (the table's keys and the state machine's definition); this script only plays
`terraform apply` and EventBridge.

Usage:
    python audit.py --endpoint URL --region R deploy PLAN.json    # creates the table and the state machine
    python audit.py --endpoint URL --region R run ARN EVENTS.json  # one execution per input, in order
    python audit.py --endpoint URL --region R items TABLE          # the table's items, as DynamoDB returns them
    python audit.py --endpoint URL --region R match PATTERNS.json  # TestEventPattern for each (pattern, event)

Each prints JSON on stdout.
"""

import argparse
import json
import sys
import time

import boto3


def clients(endpoint, region):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    return lambda service: session.client(service, endpoint_url=endpoint)


def deploy(client, plan):
    dynamodb = client("dynamodb")
    keys = [{"AttributeName": plan["hash_key"]["name"], "KeyType": "HASH"}]
    attributes = [{"AttributeName": plan["hash_key"]["name"], "AttributeType": plan["hash_key"]["type"]}]
    if plan.get("range_key"):
        keys.append({"AttributeName": plan["range_key"]["name"], "KeyType": "RANGE"})
        attributes.append({"AttributeName": plan["range_key"]["name"], "AttributeType": plan["range_key"]["type"]})
    table = dynamodb.create_table(TableName=plan["table"], BillingMode="PAY_PER_REQUEST", KeySchema=keys, AttributeDefinitions=attributes)
    role = client("iam").create_role(RoleName=plan["role"], AssumeRolePolicyDocument=plan["assume_role_policy"])["Role"]["Arn"]
    machine = client("stepfunctions").create_state_machine(name=plan["state_machine"], definition=plan["definition"], roleArn=role, type="EXPRESS")
    return {"table": table["TableDescription"]["TableArn"], "state_machine": machine["stateMachineArn"]}


def run(client, arn, inputs):
    sfn = client("stepfunctions")
    results = []
    for value in inputs:
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(value))["executionArn"]
        for _ in range(200):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
        results.append({key: described.get(key) for key in ("status", "output", "error", "cause")})
    return results


def items(client, table):
    return client("dynamodb").scan(TableName=table)["Items"]


def match(client, cases):
    events = client("events")
    return [events.test_event_pattern(EventPattern=json.dumps(case["pattern"]), Event=json.dumps(case["event"]))["Result"] for case in cases]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("command", choices=["deploy", "run", "items", "match"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    client = clients(args.endpoint, args.region)
    load = lambda path: json.load(open(path))
    if args.command == "deploy":
        result = deploy(client, load(args.args[0]))
    elif args.command == "run":
        result = run(client, args.args[0], load(args.args[1]))
    elif args.command == "items":
        result = items(client, args.args[0])
    else:
        result = match(client, load(args.args[0]))
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
