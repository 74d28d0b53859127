# Least-privilege roles: no wildcard actions; every resource that an action can be scoped to is
# scoped (the bucket's prefixes, the task definition families, the cluster, the state machine, the
# key, the log groups). The few "*" resources are for actions that take no resource.

data "aws_organizations_organization" "current" {}

locals {
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account}:stateMachine:${var.name}-runner"
  execution_arns    = "arn:${local.partition}:states:${local.region}:${local.account}:execution:${var.name}-runner:*"
  cluster_arn       = "arn:${local.partition}:ecs:${local.region}:${local.account}:cluster/${var.name}-runner"
  task_families     = concat(["${var.name}-runner-scan", "${var.name}-runner-merge"], var.open_pull_request ? ["${var.name}-runner-pull-request"] : [])
  task_roles        = [aws_iam_role.execution.arn, aws_iam_role.scan_task.arn, aws_iam_role.merge_task.arn]
  log_groups        = [aws_cloudwatch_log_group.scan.arn, aws_cloudwatch_log_group.merge.arn]
  key_use           = ["kms:Decrypt", "kms:GenerateDataKey"]
}

# --- the key -------------------------------------------------------------------------------------

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: a key policy's "*" resource is this key only; the account administers it through IAM
  # checkov:skip=CKV_AWS_111: a key policy's "*" resource is this key only; the logs service may use it for these log groups only
  # checkov:skip=CKV_AWS_356: a key policy's "*" resource is this key only

  statement {
    sid = "AccountAdministers"
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:Decrypt", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey",
      "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
      "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "LogsEncrypt"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = [
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.scan_log}",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.merge_log}",
        "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.sfn_log}",
      ]
    }
  }
}

# --- the bucket ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"]
    resources = [aws_s3_bucket.runner.arn, "${aws_s3_bucket.runner.arn}/*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# --- the state machine ---------------------------------------------------------------------------

data "aws_iam_policy_document" "states_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${var.name}-runner-state-machine"
  assume_role_policy = data.aws_iam_policy_document.states_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  # checkov:skip=CKV_AWS_111: organizations:ListAccounts, Step Functions' log delivery and X-Ray tracing accept no narrower resource than "*"
  # checkov:skip=CKV_AWS_356: organizations:ListAccounts, Step Functions' log delivery and X-Ray tracing accept no narrower resource than "*"

  statement {
    sid       = "ListTheOrganisation"
    actions   = ["organizations:ListAccounts"]
    resources = ["*"]
  }

  statement {
    sid       = "ManifestAndMapResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${aws_s3_bucket.runner.arn}/runs/*"]
  }

  statement {
    sid       = "UseTheKey"
    actions   = local.key_use
    resources = [aws_kms_key.runner.arn]
  }

  statement {
    sid       = "RunTheTasks"
    actions   = ["ecs:RunTask"]
    resources = [for family in local.task_families : "arn:${local.partition}:ecs:${local.region}:${local.account}:task-definition/${family}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "WatchTheTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account}:task/${var.name}-runner/*"]
  }

  statement {
    sid       = "TaskCompletionEvents"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/StepFunctionsGetEventsForECSTaskRule"]
  }

  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = local.task_roles

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "DistributedMapChildren"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "DistributedMapChildrenWatch"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = [local.execution_arns]
  }

  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
      "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "run"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

# --- the schedule --------------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-runner-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartTheRun"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.runner.arn]
  }

  statement {
    sid       = "UseTheKey"
    actions   = local.key_use
    resources = [aws_kms_key.runner.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# --- the tasks -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-runner-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  # checkov:skip=CKV_AWS_111: ecr:GetAuthorizationToken accepts no narrower resource than "*"
  # checkov:skip=CKV_AWS_356: ecr:GetAuthorizationToken accepts no narrower resource than "*"

  statement {
    sid       = "WriteTaskLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in local.log_groups : "${group}:*"]
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid       = "PullTheImages"
      actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = var.ecr_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid       = "RegistryLogin"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.open_pull_request ? [1] : []

    content {
      sid       = "PullRequestToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.pull_request_token_secret_arn]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-tasks"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "scan_task" {
  name               = "${var.name}-runner-scan"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scan_task" {
  statement {
    sid       = "AssumeTheReadRole"
    actions   = ["sts:AssumeRole"]
    resources = ["arn:${local.partition}:iam::*:role/${var.role_name}"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceOrgID"
      values   = [data.aws_organizations_organization.current.id]
    }
  }

  statement {
    sid       = "UploadTheScan"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.runner.arn}/runs/*/scans/*"]
  }

  statement {
    sid       = "UseTheKey"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.runner.arn]
  }
}

resource "aws_iam_role_policy" "scan_task" {
  name   = "scan"
  role   = aws_iam_role.scan_task.id
  policy = data.aws_iam_policy_document.scan_task.json
}

resource "aws_iam_role" "merge_task" {
  name               = "${var.name}-runner-merge"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "merge_task" {
  statement {
    sid       = "ListTheScans"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.runner.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["runs/*"]
    }
  }

  statement {
    sid       = "ReadTheScans"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.runner.arn}/runs/*"]
  }

  statement {
    sid       = "WriteTheReports"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.runner.arn}/runs/*/reports/*"]
  }

  statement {
    sid       = "UseTheKey"
    actions   = local.key_use
    resources = [aws_kms_key.runner.arn]
  }
}

resource "aws_iam_role_policy" "merge_task" {
  name   = "merge"
  role   = aws_iam_role.merge_task.id
  policy = data.aws_iam_policy_document.merge_task.json
}
