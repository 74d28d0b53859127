output "state_machine_arn" {
  description = "ARN of the state machine that runs onwatch across the organisation."
  value       = aws_sfn_state_machine.runner.arn
}

output "bucket" {
  description = "The bucket holding each run's manifest, scans and reports under runs/<execution name>/."
  value       = aws_s3_bucket.runner.id
}

output "scan_task_role_arn" {
  description = "The role the scan tasks run as; the member accounts' read-only role trusts it only."
  value       = aws_iam_role.scan_task.arn
}

output "execution_input" {
  description = "The input the schedule passes to every run; pass the same to start a run by hand (aws stepfunctions start-execution --input)."
  value       = jsonencode(local.execution_input)
}

output "read_role_stack_set" {
  description = "Name of the StackSet that creates the read-only role in the member accounts."
  value       = aws_cloudformation_stack_set.read_role.name
}
