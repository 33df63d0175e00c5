# The embedded `local` environment's infrastructure: builtin resources only
# (`terraform_data`), so `terraform init` needs no provider download and no network.
#
# Stateful stand-ins: a `terraform_data` whose input carries `stateful = true` (and the
# AWS type it stands for in `type`) is judged by the plan gate like that AWS resource;
# so is any resource whose name starts with `stateful_`. See docs/deploy.md.

terraform {
  # 1.10: ephemeral variables (kept out of the saved plan and the state).
  required_version = ">= 1.10"
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

# A secret input: readiness passes it as TF_VAR_db_password (from `${DB_PASSWORD}` in
# readiness.toml, or listed in deploy.sensitive_vars), never in the var file. `sensitive`
# keeps it out of terraform's output; `ephemeral` keeps it out of the saved plan and the
# state, so it may be used only where terraform allows ephemeral values (here: checked).
variable "db_password" {
  type        = string
  description = "The database password the stack is given (optional)."
  default     = null
  nullable    = true
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = var.db_password == null || length(coalesce(var.db_password, "-")) >= 12
    error_message = "db_password, when given, must be at least 12 characters."
  }
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
