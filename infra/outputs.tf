output "form_url" {
  description = "The citizen form (the submit function)."
  value       = "${module.function["submit"].uri}/"
}

output "agency_api_url" {
  description = "The agency API (Bearer API key; issue keys with python -m tools.api_keys)."
  value       = module.function["agency"].uri
}

output "console_url" {
  description = "The staff console (sign in at /masuk; invite staff with python -m tools.staff)."
  value       = "${module.function["console"].uri}/"
}

output "function_uris" {
  description = "Every function's Cloud Run URI."
  value       = { for name, fn in module.function : name => fn.uri }
}

output "function_service_accounts" {
  description = "Each function's own service account."
  value       = { for name, fn in module.function : name => fn.service_account_email }
}

output "source_objects" {
  description = "The uploaded source zip of each function (<name>-<md5>.zip): a changed name is a redeploy."
  value       = { for name, fn in module.function : name => fn.source_object }
}

output "token_secret" {
  description = "Add the token secret's value with: gcloud secrets versions add <this> --data-file=-"
  value       = google_secret_manager_secret.token_secret.secret_id
}

output "attachments_bucket" {
  description = "The private bucket of the reports' files (infra/storage.tf, docs/storage.md)."
  value       = google_storage_bucket.attachments.name
}

output "identity_kms_key_uri" {
  description = "The Cloud KMS key that wraps the private identity keyset: pass it to python -m tools.identity_keys --kms-key-uri."
  value       = local.identity_kms_key_uri
}
