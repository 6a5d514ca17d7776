# Cloud Scheduler jobs from topology.json "schedules" (shared/topology.py SCHEDULES):
# an HTTP call to the function with an OIDC token of a service account that may invoke
# the scheduled functions and nothing else. The functions themselves stay private.

locals {
  schedules           = { for s in local.topology.schedules : s.name => s }
  scheduled_functions = toset([for s in local.topology.schedules : s.function])
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "lapor-scheduler"
  display_name = "Lapor Cloud Scheduler"
  description  = "OIDC identity of Lapor's scheduled jobs: run.invoker on the scheduled functions only."
}

resource "google_cloud_run_service_iam_member" "scheduler_invoker" {
  for_each = local.scheduled_functions
  project  = var.project_id
  location = var.region
  service  = module.function[each.value].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_scheduler_job" "this" {
  for_each  = local.schedules
  project   = var.project_id
  region    = coalesce(var.scheduler_region, var.region)
  name      = "lapor-${each.key}"
  schedule  = each.value.cron
  time_zone = each.value.time_zone

  attempt_deadline = "${local.functions[each.value.function].timeout_seconds}s"

  # The jobs are idempotent (the sweeper republishes what is still pending; escalation
  # happens once per tier), so a failed run may simply be tried again.
  retry_config {
    retry_count          = 2
    min_backoff_duration = "30s"
  }

  http_target {
    uri         = "${module.function[each.value.function].uri}${each.value.path}"
    http_method = each.value.method
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.function[each.value.function].uri
    }
  }

  depends_on = [
    google_project_service.this,
    google_cloud_run_service_iam_member.scheduler_invoker,
  ]
}
