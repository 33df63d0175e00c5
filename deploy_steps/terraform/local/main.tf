# The embedded `local` environment's infrastructure: builtin resources only
# (`terraform_data`), so `terraform init` needs no provider download and no network.
#
# Stateful stand-ins: a `terraform_data` whose input carries `stateful = true` (and the
# AWS type it stands for in `type`) is judged by the plan gate like that AWS resource;
# so is any resource whose name starts with `stateful_`. See docs/deploy.md.

terraform {
  required_version = ">= 1.5"
  # Readiness points this at a state file of its own (-backend-config=path=...).
  backend "local" {}
}

variable "environment" {
  type        = string
  description = "The readiness environment this stack belongs to."
  default     = "local"
}

variable "release" {
  type        = string
  description = "The release being deployed; a new value replaces the release marker."
  default     = "2026.11.0"
}

variable "tables" {
  type        = list(string)
  description = "DynamoDB tables this stack owns (stateful stand-ins)."
  default     = ["prod-sessions-archive"]
}

variable "queues" {
  type        = list(string)
  description = "SQS queues this stack owns (stateful stand-ins)."
  default     = ["prod-deploy-events"]
}

# A stateless marker of the release: replacing it loses nothing.
resource "terraform_data" "release" {
  input            = { environment = var.environment, release = var.release }
  triggers_replace = [var.release]
}

resource "terraform_data" "table" {
  for_each = toset(var.tables)
  input = {
    stateful = true
    type     = "aws_dynamodb_table"
    name     = each.key
  }
}

resource "terraform_data" "queue" {
  for_each = toset(var.queues)
  input = {
    stateful = true
    type     = "aws_sqs_queue"
    name     = each.key
  }
}

output "release" {
  value = terraform_data.release.output
}

output "tables" {
  value = [for t in terraform_data.table : t.output.name]
}

output "queues" {
  value = [for q in terraform_data.queue : q.output.name]
}
