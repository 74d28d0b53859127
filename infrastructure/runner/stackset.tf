# The read-only role in every member account: a service-managed StackSet deploys
# member_role.cfn.json to the given OUs, and to every account that joins them later
# (auto-deployment). IAM is global, so one region per account is enough. StackSets never deploy
# to the management account itself; scan it with a role created there by hand (docs/organization.md).

resource "aws_cloudformation_stack_set" "read_role" {
  name             = "${var.name}-read-role"
  description      = "onwatch: the read-only role ${var.role_name}, trusted by the runner's scan task role only"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.stack_set_call_as
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = file("${path.module}/member_role.cfn.json")
  tags             = var.tags

  parameters = {
    RoleName      = var.role_name
    RunnerRoleArn = aws_iam_role.scan_task.arn
  }

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }

  operation_preferences {
    failure_tolerance_percentage = 10
    max_concurrent_percentage    = 25
    region_concurrency_type      = "PARALLEL"
  }

  lifecycle {
    # AWS sets it for service-managed StackSets; the provider would otherwise show a change on every plan.
    ignore_changes = [administration_role_arn]
  }
}

resource "aws_cloudformation_stack_set_instance" "read_role" {
  stack_set_name            = aws_cloudformation_stack_set.read_role.name
  call_as                   = var.stack_set_call_as
  stack_set_instance_region = local.region

  deployment_targets {
    organizational_unit_ids = var.organizational_unit_ids
  }
}
