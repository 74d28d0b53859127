variable "name" {
  description = "Prefix of every resource's name (state machine, cluster, roles, bucket, log groups)."
  type        = string
  default     = "onwatch"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2 to 31 lower-case letters, digits or hyphens, starting with a letter (it prefixes the S3 bucket's name)."
  }
}

variable "onwatch_image" {
  description = "The onwatch container image (built from the repository's Dockerfile), by digest: REGISTRY/REPOSITORY@sha256:DIGEST."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.onwatch_image))
    error_message = "onwatch_image must be pinned by digest: REGISTRY/REPOSITORY@sha256:<64 hex digits>."
  }
}

variable "aws_cli_image" {
  description = "The AWS CLI image of the tasks' S3 download and upload containers (public.ecr.aws/aws-cli/aws-cli), by digest."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.aws_cli_image))
    error_message = "aws_cli_image must be pinned by digest: REGISTRY/REPOSITORY@sha256:<64 hex digits>."
  }
}

variable "ecr_repository_arns" {
  description = "ARNs of the private ECR repositories the images come from (the task execution role may pull from these only). Empty when every image is public."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", arn))])
    error_message = "ecr_repository_arns must be ECR repository ARNs."
  }
}

variable "regions" {
  description = "The regions to scan in every account (17 is every region enabled by default in a commercial account)."
  type        = list(string)

  validation {
    condition     = length(var.regions) > 0 && alltrue([for r in var.regions : can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", r))])
    error_message = "regions must be a non-empty list of region names such as eu-west-1."
  }
}

variable "role_name" {
  description = "Name of the read-only role the StackSet creates in every member account and the scan tasks assume."
  type        = string
  default     = "onwatch-read"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be a valid IAM role name (1 to 64 of A-Z a-z 0-9 +=,.@_-)."
  }
}

variable "organizational_unit_ids" {
  description = "The organisation's root or OU ids the StackSet deploys the read-only role to (new accounts in them get it automatically)."
  type        = list(string)

  validation {
    condition     = length(var.organizational_unit_ids) > 0 && alltrue([for id in var.organizational_unit_ids : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$", id))])
    error_message = "organizational_unit_ids must be root ids (r-...) or OU ids (ou-...-...)."
  }
}

variable "stack_set_call_as" {
  description = "SELF when this module is applied in the management account, DELEGATED_ADMIN in a delegated administrator account for StackSets."
  type        = string
  default     = "SELF"

  validation {
    condition     = contains(["SELF", "DELEGATED_ADMIN"], var.stack_set_call_as)
    error_message = "stack_set_call_as must be SELF or DELEGATED_ADMIN."
  }
}

variable "exclude_account_ids" {
  description = "Account ids never scanned (the Distributed Map's manifest leaves them out)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.exclude_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "exclude_account_ids must be 12-digit account ids."
  }
}

variable "vpc_id" {
  description = "The VPC of the tasks' subnets; the tasks' security group is created in it."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the Fargate tasks, with a route to the AWS APIs (NAT gateway or VPC endpoints); the tasks get no public IP."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "subnet_ids must be a non-empty list of subnet ids (subnet-...)."
  }
}

variable "max_concurrency" {
  description = "How many accounts the Distributed Map scans at once (one Fargate task each). See docs/organization.md for what AWS's rate limits allow."
  type        = number
  default     = 40

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 10000 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 10000 (the Distributed Map's limit)."
  }
}

variable "tolerated_failure_percentage" {
  description = "Percentage of accounts whose scan may fail before the run fails; the failed accounts are missing from the merged inventory and listed in the map results."
  type        = number
  default     = 5

  validation {
    condition     = var.tolerated_failure_percentage >= 0 && var.tolerated_failure_percentage <= 100
    error_message = "tolerated_failure_percentage must be from 0 to 100."
  }
}

variable "schedule_expression" {
  description = "When EventBridge Scheduler starts a run: rate(...), cron(...) or at(...)."
  type        = string
  default     = "cron(17 5 ? * MON *)"

  validation {
    condition     = can(regex("^(rate|cron|at)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(...), cron(...) or at(...)."
  }
}

variable "schedule_timezone" {
  description = "Time zone of a cron schedule_expression (IANA name)."
  type        = string
  default     = "UTC"
}

variable "scan_cpu" {
  description = "CPU units of a scan task (Fargate: 256 = 0.25 vCPU)."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.scan_cpu)
    error_message = "scan_cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "scan_memory" {
  description = "Memory of a scan task in MiB (must suit scan_cpu, see Fargate's task sizes)."
  type        = number
  default     = 512

  validation {
    condition     = var.scan_memory >= 512 && var.scan_memory <= 30720
    error_message = "scan_memory must be from 512 to 30720 MiB."
  }
}

variable "merge_cpu" {
  description = "CPU units of the merge-and-check task."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.merge_cpu)
    error_message = "merge_cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "merge_memory" {
  description = "Memory of the merge-and-check task in MiB."
  type        = number
  default     = 4096

  validation {
    condition     = var.merge_memory >= 512 && var.merge_memory <= 30720
    error_message = "merge_memory must be from 512 to 30720 MiB."
  }
}

variable "log_retention_days" {
  description = "Retention of the tasks' and the state machine's logs, in days (at least a year)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of at least 365 days (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "report_retention_days" {
  description = "Days the bucket keeps a run's manifest, scans and reports."
  type        = number
  default     = 90

  validation {
    condition     = var.report_retention_days >= 1
    error_message = "report_retention_days must be at least 1."
  }
}

variable "open_pull_request" {
  description = "Whether a run ends by regenerating the per-account modules and opening the pull request (needs pull_request_image and pull_request_token_secret_arn). Off by default."
  type        = bool
  default     = false
}

variable "pull_request_image" {
  description = "Image of the pull-request task (onwatch, git and the forge's CLI; it reads ONWATCH_INVENTORY_URL and GIT_TOKEN), by digest. Used when open_pull_request is true."
  type        = string
  default     = ""

  validation {
    condition     = var.pull_request_image == "" || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$", var.pull_request_image))
    error_message = "pull_request_image must be empty or pinned by digest."
  }
}

variable "pull_request_token_secret_arn" {
  description = "Secrets Manager secret holding the forge token the pull-request task pushes with (never in plain text). Used when open_pull_request is true."
  type        = string
  default     = ""

  validation {
    condition     = var.pull_request_token_secret_arn == "" || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.pull_request_token_secret_arn))
    error_message = "pull_request_token_secret_arn must be empty or a Secrets Manager secret ARN."
  }
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
