# onwatch across an AWS organisation on AWS's own engines: a Step Functions state machine
# (state_machine.asl.json) lists the organisation's active accounts, writes them to an S3 manifest
# and fans out over it with a Distributed Map, one ECS Fargate task per account; a last task
# merges the scans, checks them and writes the reports to S3. EventBridge Scheduler starts it.
# See README.md and docs/organization.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  bucket    = "${var.name}-runner-${local.account}-${local.region}"
  scan_log  = "/${var.name}/runner/scan"
  merge_log = "/${var.name}/runner/merge"
  sfn_log   = "/aws/vendedlogs/states/${var.name}-runner"
  # The execution input the schedule passes: every deployment-specific value the static state
  # machine definition reads.
  execution_input = {
    bucket                       = aws_s3_bucket.runner.id
    cluster                      = aws_ecs_cluster.runner.arn
    scan_task_definition         = aws_ecs_task_definition.scan.arn
    merge_task_definition        = aws_ecs_task_definition.merge.arn
    pull_request_task_definition = var.open_pull_request ? aws_ecs_task_definition.pull_request[0].arn : ""
    open_pull_request            = var.open_pull_request
    subnets                      = var.subnet_ids
    security_groups              = [aws_security_group.tasks.id]
    regions                      = var.regions
    role_name                    = var.role_name
    partition                    = local.partition
    exclude_accounts             = var.exclude_account_ids
    max_concurrency              = var.max_concurrency
    tolerated_failure_percentage = var.tolerated_failure_percentage
  }
}

resource "aws_kms_key" "runner" {
  description             = "${var.name} runner: the bucket, the logs and the schedule"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "runner" {
  name          = "alias/${var.name}-runner"
  target_key_id = aws_kms_key.runner.key_id
}

resource "aws_s3_bucket" "runner" {
  # checkov:skip=CKV_AWS_18: the bucket holds only what the runner's own roles write; CloudTrail records who reads it, and an access-log bucket would need a log bucket of its own
  # checkov:skip=CKV_AWS_144: every run rewrites its manifest, scans and reports from the accounts themselves; a replica would hold nothing that cannot be rebuilt
  # checkov:skip=CKV2_AWS_62: nothing consumes object events: the state machine reads only what it has just written
  bucket = local.bucket
  tags   = var.tags
}

resource "aws_s3_bucket_versioning" "runner" {
  bucket = aws_s3_bucket.runner.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "runner" {
  bucket = aws_s3_bucket.runner.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.runner.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "runner" {
  bucket                  = aws_s3_bucket.runner.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "runner" {
  bucket = aws_s3_bucket.runner.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "runner" {
  bucket = aws_s3_bucket.runner.id

  rule {
    id     = "expire-runs"
    status = "Enabled"

    filter {
      prefix = "runs/"
    }

    expiration {
      days = var.report_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }

  rule {
    id     = "abort-failed-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "runner" {
  bucket = aws_s3_bucket.runner.id
  policy = data.aws_iam_policy_document.bucket.json
}

resource "aws_cloudwatch_log_group" "scan" {
  name              = local.scan_log
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.runner.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "merge" {
  name              = local.merge_log
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.runner.arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "state_machine" {
  name              = local.sfn_log
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.runner.arn
  tags              = var.tags
}

resource "aws_ecs_cluster" "runner" {
  name = "${var.name}-runner"
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_security_group" "tasks" {
  # checkov:skip=CKV2_AWS_5: the tasks get it at run time: the schedule's execution input passes it to ecs:RunTask
  name        = "${var.name}-runner-tasks"
  description = "onwatch runner tasks: HTTPS out to the AWS APIs only, nothing in"
  vpc_id      = var.vpc_id
  tags        = var.tags

  egress {
    description = "HTTPS to the AWS APIs"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_sfn_state_machine" "runner" {
  name       = "${var.name}-runner"
  role_arn   = aws_iam_role.state_machine.arn
  definition = file("${path.module}/state_machine.asl.json")
  type       = "STANDARD"
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = aws_kms_key.runner.arn
    kms_data_key_reuse_period_seconds = 300
  }
}

resource "aws_scheduler_schedule" "runner" {
  name                         = "${var.name}-runner"
  description                  = "Starts onwatch's organisation run"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = aws_kms_key.runner.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.runner.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(local.execution_input)

    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
  }
}
