variable "project_id" {
  description = "The Google Cloud project."
  type        = string
}

variable "region" {
  description = "Where the function (and its Cloud Run service) runs."
  type        = string
}

variable "name" {
  description = "The function's name: functions/<name>/, its entry point and its service account."
  type        = string

  validation {
    # lapor-fn-<name> must be a valid service account id (6-30 characters).
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "A function name is lowercase letters, digits and hyphens, at most 21 characters."
  }
}

variable "bucket" {
  description = "The bucket the source zips are uploaded to."
  type        = string
}

variable "bundle_zip" {
  description = "Path of build/<name>.zip, made by `make bundle` (python -m tools.bundle)."
  type        = string
}

variable "environment" {
  description = "Plain environment variables (LAPOR_* settings)."
  type        = map(string)
  default     = {}
}

variable "secret_environment" {
  description = "Environment variables read from Secret Manager: variable name -> secret id in this project (latest version); the function's account gets secretAccessor on each."
  type        = map(string)
  default     = {}
}

variable "public" {
  description = "Whether anyone may call it (allUsers run.invoker). Only the citizen form and the agency API, which checks API keys itself."
  type        = bool
  default     = false
}

variable "memory" {
  description = "Memory per instance, e.g. 256Mi."
  type        = string
  default     = "256Mi"
}

variable "max_instances" {
  description = "Upper bound on instances: a cost ceiling and a cap on Firestore contention."
  type        = number
  default     = 10
}

variable "timeout_seconds" {
  description = "Request timeout. A push target's stays at or under its subscription's ack deadline; a scheduled job's is also its Cloud Scheduler attempt deadline (15 to 1800 s for HTTP targets)."
  type        = number
  default     = 60
}

variable "description" {
  description = "What the function does."
  type        = string
  default     = ""
}
