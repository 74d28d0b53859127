"""Seeds the emulator (tests/emulator/server.py) with an AWS organisation for `scan --organization`.

Usage:
    python organization.py --endpoint http://127.0.0.1:PORT --accounts 30 [--missing-role N] [--suspended N]

The caller's account (123456789012) creates the organisation and is its management account; it and
--accounts - 1 member accounts are active, and each gets the role onwatch-read, created in that
account through the emulator (moto keeps IAM per account; the header x-moto-account-id picks it),
except the --missing-role last ones. --suspended more member accounts are closed (SUSPENDED). The
first three accounts get a tagged SQS queue in each region (and an alarm on it in the first region).
Prints JSON: {"active": [...], "suspended": [...], "missing_role": [...], "queues": {account: [arn...]}}.
"""

import argparse
import json

import boto3

MANAGEMENT = "123456789012"
ROLE = "onwatch-read"
REGIONS = ["eu-west-1", "us-east-1"]


def client(endpoint, service, region="us-east-1", account=None):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    made = session.client(service, endpoint_url=endpoint)
    if account is not None:
        made.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return made


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--missing-role", type=int, default=0)
    parser.add_argument("--suspended", type=int, default=0)
    args = parser.parse_args()

    org = client(args.endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    members = []
    for index in range(args.accounts - 1 + args.suspended):
        status = org.create_account(Email=f"member{index}@example.com", AccountName=f"member-{index:02d}")["CreateAccountStatus"]
        members.append(status["AccountId"])
    active, suspended = [MANAGEMENT] + members[: args.accounts - 1], members[args.accounts - 1 :]
    for account in suspended:
        org.close_account(AccountId=account)
    missing = active[len(active) - args.missing_role :] if args.missing_role else []
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}, "Action": "sts:AssumeRole"}]})
    for account in active:
        if account not in missing:
            client(args.endpoint, "iam", account=account).create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    queues = {}
    for account in active[:3]:
        for number, region in enumerate(REGIONS):
            sqs = client(args.endpoint, "sqs", region, account)
            url = sqs.create_queue(QueueName=f"jobs-{region}", tags={"team": "payments"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queues.setdefault(account, []).append(arn)
            if number == 0:
                client(args.endpoint, "cloudwatch", region, account).put_metric_alarm(
                    AlarmName=f"jobs-{region}-age", Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
                    Dimensions=[{"Name": "QueueName", "Value": f"jobs-{region}"}], Statistic="Maximum", Period=300,
                    EvaluationPeriods=1, Threshold=600, ComparisonOperator="GreaterThanThreshold")
    print(json.dumps({"active": sorted(active), "suspended": sorted(suspended), "missing_role": missing, "queues": queues}))


if __name__ == "__main__":
    main()
