variable "project_id" {
  description = "The Google Cloud project Lapor is deployed to."
  type        = string
}

variable "region" {
  description = "Region of the functions, the source bucket and the scheduler jobs (asia-southeast2 is Jakarta)."
  type        = string
  default     = "asia-southeast2"
}

variable "firestore_location" {
  description = "Firestore location_id: a region (asia-southeast2) or a multi-region (nam5, eur3). Fixed once the database exists."
  type        = string
  default     = "asia-southeast2"
}

variable "scheduler_region" {
  description = "Region of the Cloud Scheduler jobs, when Cloud Scheduler is not offered in var.region (null: var.region)."
  type        = string
  default     = null
}

variable "settings" {
  description = <<-EOT
    LAPOR_* settings (shared/config.py) given to every function, e.g.
    { LAPOR_COMPLAINT_DAYS = "14", LAPOR_LOCAL_DAYS_OFF = "2025-06-12" }.
    Not here: LAPOR_TOKEN_SECRET (Secret Manager), LAPOR_PROJECT (project_id) and the
    LAPOR_TOPIC_* names (the topology's). The allowed names are in topology.json.
  EOT
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.settings) : contains(local.topology.settings, name)])
    error_message = "Unknown or Terraform-owned setting. Allowed: the \"settings\" list in infra/topology.json (python -m tools.export_topology)."
  }
}

variable "function_overrides" {
  description = "Per function sizing, e.g. { submit = { max_instances = 50 } }; unset fields keep the defaults in main.tf."
  type = map(object({
    memory          = optional(string)
    max_instances   = optional(number)
    timeout_seconds = optional(number)
  }))
  default = {}
}

variable "token_secret_id" {
  description = "Secret Manager secret holding LAPOR_TOKEN_SECRET. Terraform creates the secret, never its value: add it with `gcloud secrets versions add`."
  type        = string
  default     = "lapor-token-secret"
}

variable "smtp_password_secret_id" {
  description = "Secret Manager secret holding LAPOR_SMTP_PASSWORD (the mail relay's password), mounted into notify and digest only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-smtp-password"
}

variable "identity_public_keyset_secret_id" {
  description = "Secret Manager secret holding LAPOR_IDENTITY_PUBLIC_KEYSET (the Tink keyset that seals reporters' identities), mounted into submit, notify, agency and console only. Make the pair with `python -m tools.identity_keys`; Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-identity-public-keyset"
}

variable "identity_private_keyset_secret_id" {
  description = "Secret Manager secret holding LAPOR_IDENTITY_PRIVATE_KEYSET (the Tink keyset that opens reporters' identities), mounted into submit, notify, agency and console only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-identity-private-keyset"
}

variable "totp_keyset_secret_id" {
  description = "Secret Manager secret holding LAPOR_TOTP_KEYSET (the Tink AEAD keyset that seals the staff's TOTP secrets), mounted into console only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-totp-keyset"
}

variable "contact_hash_key_secret_id" {
  description = "Secret Manager secret holding LAPOR_CONTACT_HASH_KEY (32+ random characters: the HMAC key of the reporters' contact digests kept beside their sealed identities), mounted into submit only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-contact-hash-key"
}

variable "sms_api_key_secret_id" {
  description = "Secret Manager secret holding LAPOR_SMS_API_KEY (the SMS gateway's key), mounted into notify only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-sms-api-key"
}

variable "signing_public_keyset_secret_id" {
  description = "Secret Manager secret holding LAPOR_SIGNING_PUBLIC_KEYSET (the Tink keyset that seals the agencies' webhook signing secrets), mounted into notify and console only. Make the pair with `python -m tools.signing_keys`; Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-signing-public-keyset"
}

variable "signing_private_keyset_secret_id" {
  description = "Secret Manager secret holding LAPOR_SIGNING_PRIVATE_KEYSET (the Tink keyset that opens the agencies' webhook signing secrets), mounted into notify (signs every webhook) and console (signs its test ping) only. Terraform creates the secret, never its value."
  type        = string
  default     = "lapor-signing-private-keyset"
}

variable "alert_email" {
  description = "Where to send alerts (dead-lettered messages, a stuck subscription). null: no alerting."
  type        = string
  default     = null
}
