"""Seeds an AWS API emulator (moto's server mode) with a realistic account for onwatch's scan tests.

Usage:
    python seed.py --endpoint http://127.0.0.1:PORT [--region us-east-1]
    python seed.py --endpoint ... --bench-resources 1000 --bench-alarms 2000

The default ("showcase") account exercises every source the scanner reads and most finding codes;
it prints a JSON object naming what it made (EC2 instance ids are random) for the test to assert on.
The bench account is plain volume: N tagged SQS queues and M alarms on them.

Run it against tests/emulator/server.py (moto's server plus PutCompositeAlarm and pending
subscriptions). moto limits worth knowing (see README, "Scanning an account"):
- AWS services publish no metrics in moto, so the metrics AWS would publish are put with
  PutMetricData, which moto accepts in the AWS/ namespaces;
- Lambda functions can be created (not invoked) without Docker.
"""

import argparse
import io
import json
import sys
import zipfile

import boto3



def clients(endpoint, region):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    return lambda service: session.client(service, endpoint_url=endpoint)


def put_metrics(cloudwatch, namespace, metrics):
    """metrics: list of (name, {dimension: value})."""
    for start in range(0, len(metrics), 500):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()], "Value": 1.0}
                for name, dims in metrics[start : start + 500]
            ],
        )


def alarm(cloudwatch, name, namespace, metric, dims, statistic, period, evaluations, comparison, threshold, missing, actions, **extra):
    args = dict(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        Period=period,
        EvaluationPeriods=evaluations,
        DatapointsToAlarm=evaluations,
        ComparisonOperator=comparison,
        Threshold=threshold,
        TreatMissingData=missing,
        AlarmActions=actions,
        OKActions=actions,
    )
    if statistic.startswith("p"):
        args["ExtendedStatistic"] = statistic
    else:
        args["Statistic"] = statistic
    args.update(extra)
    cloudwatch.put_metric_alarm(**args)


def tags(pairs):
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def showcase(client, endpoint, region):
    ec2, cw, sns, sqs = client("ec2"), client("cloudwatch"), client("sns"), client("sqs")
    made = {}

    # --- SNS: a healthy encrypted topic, one nobody subscribes to, one on the AWS-managed key.
    kms = client("kms")
    key = kms.create_key(Description="onwatch alerts")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/onwatch-alerts", TargetKeyId=key)
    alerts = sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/onwatch-alerts"})["TopicArn"]
    oncall = sqs.create_queue(QueueName="oncall-pager")["QueueUrl"]
    oncall_arn = sqs.get_queue_attributes(QueueUrl=oncall, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=alerts, Protocol="sqs", Endpoint=oncall_arn)
    sns.subscribe(TopicArn=alerts, Protocol="email", Endpoint="pending-oncall@example.com")
    # Notifies nobody: its only subscriber never confirmed.
    nobody = sns.create_topic(Name="alerts-nobody")["TopicArn"]
    sns.subscribe(TopicArn=nobody, Protocol="email", Endpoint="pending-team@example.com")
    managed = sns.create_topic(Name="alerts-aws-key", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    sns.subscribe(TopicArn=managed, Protocol="email", Endpoint="platform@example.com")
    made["topics"] = {"alerts": alerts, "nobody": nobody, "managed": managed}

    # --- EC2: web (fully covered), batch (wrong threshold, no agent), an untagged one.
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def instance(tag_pairs):
        spec = {"ImageId": image, "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"}
        if tag_pairs:
            spec["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tags(tag_pairs)}]
        return ec2.run_instances(**spec)["Instances"][0]["InstanceId"]

    web = instance({"Name": "web", "team": "shop"})
    batch = instance({"Name": "batch", "team": "data"})
    untagged = instance(None)
    made["instances"] = {"web": web, "batch": batch, "untagged": untagged}

    alarm(cw, "web-cpu", "AWS/EC2", "CPUUtilization", {"InstanceId": web}, "Average", 300, 3, "GreaterThanThreshold", 80, "missing", [alerts])
    alarm(cw, "web-status", "AWS/EC2", "StatusCheckFailed", {"InstanceId": web}, "Maximum", 300, 2, "GreaterThanOrEqualToThreshold", 1, "missing", [alerts])
    alarm(cw, "web-attached-ebs", "AWS/EC2", "StatusCheckFailed_AttachedEBS", {"InstanceId": web}, "Maximum", 60, 10, "GreaterThanOrEqualToThreshold", 1, "notBreaching", [alerts])
    alarm(cw, "web-memory", "CWAgent", "mem_used_percent", {"InstanceId": web}, "Average", 300, 3, "GreaterThanThreshold", 90, "missing", [alerts])
    disk = {"InstanceId": web, "path": "/", "device": "nvme0n1p1", "fstype": "xfs"}
    alarm(cw, "web-disk", "CWAgent", "disk_used_percent", disk, "Maximum", 300, 2, "GreaterThanThreshold", 90, "missing", [alerts])
    put_metrics(cw, "CWAgent", [("mem_used_percent", {"InstanceId": web}), ("disk_used_percent", disk)])
    # Wrong threshold, and notifying a topic nobody reads.
    alarm(cw, "batch-cpu", "AWS/EC2", "CPUUtilization", {"InstanceId": batch}, "Average", 300, 3, "GreaterThanThreshold", 95, "missing", [nobody])
    alarm(cw, "batch-status", "AWS/EC2", "StatusCheckFailed", {"InstanceId": batch}, "Maximum", 300, 2, "GreaterThanOrEqualToThreshold", 1, "missing", [managed])
    # The metrics AWS publishes for every instance, including the untagged one.
    put_metrics(cw, "AWS/EC2", [(m, {"InstanceId": i}) for i in (web, batch, untagged) for m in ("CPUUtilization", "StatusCheckFailed")])
    # An alarm left behind by an instance that is gone.
    alarm(cw, "gone-cpu", "AWS/EC2", "CPUUtilization", {"InstanceId": "i-0000000000000dead"}, "Average", 300, 3, "GreaterThanThreshold", 80, "missing", [alerts])
    # A composite alarm over web's two alarms.
    cw.put_composite_alarm(AlarmName="web-down", AlarmRule='ALARM("web-cpu") AND ALARM("web-status")', AlarmActions=[alerts])

    # --- RDS, with a CPU alarm that notifies nobody at all.
    rds = client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin", MasterUserPassword="password1234", AllocatedStorage=20,
        Tags=tags({"team": "shop"}),
    )
    alarm(cw, "orders-db-cpu", "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "orders-db"}, "Average", 60, 5, "GreaterThanThreshold", 90, "missing", [])

    # --- SQS: a tagged queue and an untagged one that only its metrics reveal.
    sqs.create_queue(QueueName="orders", tags={"team": "shop"})
    sqs.create_queue(QueueName="legacy-jobs")
    put_metrics(cw, "AWS/SQS", [("ApproximateAgeOfOldestMessage", {"QueueName": q}) for q in ("orders", "legacy-jobs")])

    # --- API Gateway v2: an HTTP and a WebSocket stage that only their metrics reveal; which
    # metrics they publish tells their protocol (4xx/5xx for HTTP, ConnectCount for WebSocket).
    put_metrics(cw, "AWS/ApiGateway", [
        ("5xx", {"ApiId": "f6g7h8i9j0", "Stage": "$default"}),
        ("Latency", {"ApiId": "f6g7h8i9j0", "Stage": "$default"}),
        ("ConnectCount", {"ApiId": "k1l2m3n4o5", "Stage": "prod"}),
        ("IntegrationLatency", {"ApiId": "k1l2m3n4o5", "Stage": "prod", "Route": "$connect"}),
    ])

    # --- DynamoDB.
    client("dynamodb").create_table(
        TableName="sessions", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        Tags=tags({"team": "shop"}),
    )

    # --- Lambda (created, never invoked: no Docker needed).
    iam = client("iam")
    role = iam.create_role(RoleName="checkout-lambda", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    client("lambda").create_function(
        FunctionName="checkout", Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": code.getvalue()}, Tags={"team": "shop", "onwatch:rates": "on", "onwatch:anomaly": "on"},
    )
    alarm(cw, "checkout-errors", "AWS/Lambda", "Errors", {"FunctionName": "checkout"}, "Sum", 60, 3, "GreaterThanThreshold", 1, "notBreaching", [alerts])

    # Metric math and anomaly detection on checkout, without actions of their own: a composite
    # roll-up carries their notification. The rate uses other query ids than the pack's policy;
    # the band is 3 standard deviations wide where the pack requires 2.
    def stat(metric, statistic, period):
        return {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": "checkout"}]},
                "Period": period, "Stat": statistic}
    cw.put_metric_alarm(
        AlarmName="checkout-error-rate", EvaluationPeriods=5, DatapointsToAlarm=5, ComparisonOperator="GreaterThanThreshold",
        Threshold=5, TreatMissingData="notBreaching", ActionsEnabled=False,
        Metrics=[
            {"Id": "rate", "Expression": "100*failed/calls", "Label": "ErrorRate", "ReturnData": True},
            {"Id": "failed", "MetricStat": stat("Errors", "Sum", 60), "ReturnData": False},
            {"Id": "calls", "MetricStat": stat("Invocations", "Sum", 60), "ReturnData": False},
        ],
    )
    cw.put_metric_alarm(
        AlarmName="checkout-invocations-band", EvaluationPeriods=3, DatapointsToAlarm=3,
        ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold", TreatMissingData="ignore", ThresholdMetricId="ad1", ActionsEnabled=False,
        Metrics=[
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 3)", "ReturnData": True},
            {"Id": "m1", "MetricStat": stat("Invocations", "Sum", 300), "ReturnData": True},
        ],
    )
    cw.put_composite_alarm(AlarmName="checkout-rollup", AlarmRule='ALARM("checkout-error-rate") OR ALARM("checkout-invocations-band")',
                           AlarmActions=[alerts], OKActions=[alerts])

    # --- An Application Load Balancer and its target group.
    elb = client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    balancer = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application", Tags=tags({"team": "shop"}))["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc, Tags=tags({"team": "shop"}))["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    lb_dimension = balancer.split(":loadbalancer/", 1)[1]
    tg_dimension = group.split(":", 5)[5]
    put_metrics(cw, "AWS/ApplicationELB", [
        ("RequestCount", {"LoadBalancer": lb_dimension}),
        ("HealthyHostCount", {"LoadBalancer": lb_dimension, "TargetGroup": tg_dimension}),
    ])
    alarm(cw, "web-tg-healthy", "AWS/ApplicationELB", "HealthyHostCount", {"TargetGroup": tg_dimension, "LoadBalancer": lb_dimension},
          "Minimum", 60, 2, "LessThanThreshold", 1, "missing", [alerts])
    made["load_balancer"] = {"arn": balancer, "dimension": lb_dimension}
    made["target_group"] = {"arn": group, "dimension": tg_dimension}

    # --- An Auto Scaling group (not a Tagging API resource: DescribeAutoScalingGroups lists it),
    # with no instances so that none joins the account's instances, and its group metrics.
    autoscaling = client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName="web-lc", ImageId=image, InstanceType="t3.micro")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg", LaunchConfigurationName="web-lc", MinSize=0, MaxSize=4, DesiredCapacity=0,
        AvailabilityZones=[f"{region}a"], Tags=[{"Key": "team", "Value": "shop", "PropagateAtLaunch": False}],
    )
    put_metrics(cw, "AWS/AutoScaling", [("GroupInServiceCapacity", {"AutoScalingGroupName": "web-asg"})])
    group_arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    made["auto_scaling_group"] = {"arn": group_arn}

    # --- CloudTrail into CloudWatch Logs, and security detections on that log group: root usage
    # covered, IAM policy changes alarmed to a topic nobody reads, CloudTrail changes without an alarm,
    # every other control missing.
    logs, trail = client("logs"), client("cloudtrail")
    # The account the endpoint stands for (one per test on a shared emulator: tests/it/harness.rs).
    account = client("sts").get_caller_identity()["Account"]
    logs.create_log_group(logGroupName="aws-cloudtrail-logs")
    # Bucket names are global across accounts, in moto as in AWS.
    bucket = f"onwatch-seed-trail-{account}"
    client("s3").create_bucket(Bucket=bucket)
    delivery = iam.create_role(RoleName="cloudtrail-to-logs", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    trail_arn = trail.create_trail(
        Name="org-audit", S3BucketName=bucket, IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{account}:log-group:aws-cloudtrail-logs:*", CloudWatchLogsRoleArn=delivery,
    )["TrailARN"]
    trail.start_logging(Name="org-audit")
    security = sns.create_topic(Name="security-alerts", Attributes={"KmsMasterKeyId": "alias/onwatch-alerts"})["TopicArn"]
    sns.subscribe(TopicArn=security, Protocol="sqs", Endpoint=oncall_arn)

    def detection(name, pattern, metric, actions=None):
        logs.put_metric_filter(logGroupName="aws-cloudtrail-logs", filterName=name, filterPattern=pattern,
                               metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}])
        if actions is not None:
            alarm(cw, f"cis-{name}", "CISBenchmark", metric, {}, "Sum", 300, 1, "GreaterThanOrEqualToThreshold", 1, "notBreaching", actions)

    detection("root-usage", '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }', "RootAccountUsage", [security])
    iam_calls = ["DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy",
                 "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"]
    detection("iam-policy-changes", "{" + "||".join(f"($.eventName={c})" for c in iam_calls) + "}", "IAMPolicyChanges", [nobody])
    detection("cloudtrail-changes", "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }", "CloudTrailChanges")
    made["security"] = {"trail": trail_arn, "topic": security, "log_group": f"arn:aws:logs:{region}:{account}:log-group:aws-cloudtrail-logs"}

    # --- A dashboard.
    cw.put_dashboard(DashboardName="ops", DashboardBody=json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "ops"}}]}))
    return made


def bench(client, resources, alarms):
    sqs, cw = client("sqs"), client("cloudwatch")
    for n in range(resources):
        sqs.create_queue(QueueName=f"bench-{n:05d}", tags={"team": "bench"})
    for n in range(alarms):
        queue = f"bench-{n % max(resources, 1):05d}"
        alarm(cw, f"bench-{n:05d}", "AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": queue}, "Maximum", 60, 15,
              "GreaterThanOrEqualToThreshold", 900, "notBreaching", [])
    return {"resources": resources, "alarms": alarms}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--bench-resources", type=int)
    parser.add_argument("--bench-alarms", type=int, default=0)
    args = parser.parse_args()
    client = clients(args.endpoint, args.region)
    if args.bench_resources is not None:
        made = bench(client, args.bench_resources, args.bench_alarms)
    else:
        made = showcase(client, args.endpoint, args.region)
    json.dump(made, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
