output "name" {
  description = "The function's name (also its Cloud Run service's)."
  value       = google_cloudfunctions2_function.function.name
}

output "uri" {
  description = "The Cloud Run URI: the push endpoint and OIDC audience for Pub/Sub and Cloud Scheduler."
  value       = google_cloudfunctions2_function.function.service_config[0].uri
}

output "url" {
  description = "The function's cloudfunctions.net URL."
  value       = google_cloudfunctions2_function.function.url
}

output "service_account_email" {
  description = "The function's own service account."
  value       = google_service_account.function.email
}

output "service_account_member" {
  description = "The function's service account as an IAM member."
  value       = "serviceAccount:${google_service_account.function.email}"
}

output "source_object" {
  description = "The uploaded source zip, <name>-<md5>.zip."
  value       = google_storage_bucket_object.source.name
}
