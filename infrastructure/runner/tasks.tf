# The Fargate tasks. Each shares a task-local volume (/data) between its containers: the onwatch
# image stays the small static binary of the repository's Dockerfile, and the AWS CLI image moves
# files between /data and the bucket. The state machine sets the per-run arguments (account,
# regions, S3 keys) through container overrides.

locals {
  data_volume = "data"
  data_mount  = [{ sourceVolume = local.data_volume, containerPath = "/data", readOnly = false }]
  # Containers run as a non-root user with a read-only root file system; only /data is writable.
  hardening = {
    readonlyRootFilesystem = true
    user                   = "10001"
    privileged             = false
    linuxParameters        = { initProcessEnabled = true, capabilities = { drop = ["ALL"] } }
  }

  scan_containers = [
    merge(local.hardening, {
      name        = "onwatch"
      image       = var.onwatch_image
      essential   = false
      command     = ["--help"]
      mountPoints = local.data_mount
      environment = [{ name = "AWS_RETRY_MODE", value = "adaptive" }]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { awslogs-group = local.scan_log, awslogs-region = local.region, awslogs-stream-prefix = "scan" }
      }
    }),
    merge(local.hardening, {
      name        = "upload"
      image       = var.aws_cli_image
      essential   = true
      entryPoint  = ["/bin/sh", "-c"]
      command     = ["false"]
      mountPoints = local.data_mount
      environment = [{ name = "HOME", value = "/data" }]
      dependsOn   = [{ containerName = "onwatch", condition = "COMPLETE" }]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { awslogs-group = local.scan_log, awslogs-region = local.region, awslogs-stream-prefix = "upload" }
      }
    }),
  ]

  merge_script = join(" && ", [
    "mkdir -p /data/out",
    "onwatch merge /data/scans/*.json --output /data/out/inventory.json",
    "onwatch check --inventory /data/out/inventory.json --fail-on never --report json=/data/out/onwatch.json --report markdown=/data/out/onwatch.md --report sarif=/data/out/onwatch.sarif --report html=/data/out/onwatch.html",
  ])

  merge_containers = [
    merge(local.hardening, {
      name        = "download"
      image       = var.aws_cli_image
      essential   = false
      entryPoint  = ["/bin/sh", "-c"]
      command     = ["false"]
      mountPoints = local.data_mount
      environment = [{ name = "HOME", value = "/data" }]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { awslogs-group = local.merge_log, awslogs-region = local.region, awslogs-stream-prefix = "download" }
      }
    }),
    merge(local.hardening, {
      name        = "onwatch"
      image       = var.onwatch_image
      essential   = false
      entryPoint  = ["/bin/sh", "-c"]
      command     = [local.merge_script]
      mountPoints = local.data_mount
      dependsOn   = [{ containerName = "download", condition = "SUCCESS" }]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { awslogs-group = local.merge_log, awslogs-region = local.region, awslogs-stream-prefix = "merge" }
      }
    }),
    merge(local.hardening, {
      name        = "upload"
      image       = var.aws_cli_image
      essential   = true
      entryPoint  = ["/bin/sh", "-c"]
      command     = ["false"]
      mountPoints = local.data_mount
      environment = [{ name = "HOME", value = "/data" }]
      dependsOn   = [{ containerName = "onwatch", condition = "SUCCESS" }]
      logConfiguration = {
        logDriver = "awslogs"
        options   = { awslogs-group = local.merge_log, awslogs-region = local.region, awslogs-stream-prefix = "upload" }
      }
    }),
  ]
}

resource "aws_ecs_task_definition" "scan" {
  family                   = "${var.name}-runner-scan"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.scan_cpu
  memory                   = var.scan_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.scan_task.arn
  container_definitions    = jsonencode(local.scan_containers)
  tags                     = var.tags

  volume {
    name = local.data_volume
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

resource "aws_ecs_task_definition" "merge" {
  family                   = "${var.name}-runner-merge"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.merge_cpu
  memory                   = var.merge_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.merge_task.arn
  container_definitions    = jsonencode(local.merge_containers)
  tags                     = var.tags

  volume {
    name = local.data_volume
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
}

resource "aws_ecs_task_definition" "pull_request" {
  count                    = var.open_pull_request ? 1 : 0
  family                   = "${var.name}-runner-pull-request"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.merge_cpu
  memory                   = var.merge_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.merge_task.arn
  tags                     = var.tags
  container_definitions = jsonencode([merge(local.hardening, {
    name        = "pull-request"
    image       = var.pull_request_image
    essential   = true
    mountPoints = local.data_mount
    environment = [{ name = "HOME", value = "/data" }]
    secrets     = [{ name = "GIT_TOKEN", valueFrom = var.pull_request_token_secret_arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options   = { awslogs-group = local.merge_log, awslogs-region = local.region, awslogs-stream-prefix = "pull-request" }
    }
  })])

  volume {
    name = local.data_volume
  }

  lifecycle {
    precondition {
      condition     = var.pull_request_image != "" && var.pull_request_token_secret_arn != ""
      error_message = "open_pull_request needs pull_request_image and pull_request_token_secret_arn."
    }
  }
}
