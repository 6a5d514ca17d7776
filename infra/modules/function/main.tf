# One Cloud Function (2nd gen) with its own service account, after
# cloud-foundation-fabric's modules/cloud-function-v2: the source object is named by
# the zip's md5, so a function whose bundle did not change is not redeployed. Roles
# beyond the service account itself are granted by the caller, resource by resource.

locals {
  # filemd5 fails on a missing file with a message about the path; the precondition on
  # the upload says what to run instead.
  bundle_exists = fileexists(var.bundle_zip)
  bundle_md5    = local.bundle_exists ? filemd5(var.bundle_zip) : "missing"
}

resource "google_service_account" "function" {
  project      = var.project_id
  account_id   = "lapor-fn-${var.name}"
  display_name = "Lapor function ${var.name}"
  description  = "Runs the ${var.name} Cloud Function; its roles are granted per resource in infra/."
}

# Read access to exactly the secrets it mounts, granted before the deploy that needs it.
resource "google_secret_manager_secret_iam_member" "secret" {
  for_each  = toset(values(var.secret_environment))
  project   = var.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function.email}"
}

resource "google_storage_bucket_object" "source" {
  bucket = var.bucket
  name   = "${var.name}-${local.bundle_md5}.zip"
  source = var.bundle_zip

  lifecycle {
    precondition {
      condition     = local.bundle_exists
      error_message = "${var.bundle_zip} is missing: run `make bundle` (python -m tools.bundle) first."
    }
  }
}

resource "google_cloudfunctions2_function" "function" {
  # checkov:skip=CKV_GCP_124:Citizens and agencies call the public functions from the internet; every other function is ALLOW_INTERNAL_ONLY (var.public false).
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = var.description

  build_config {
    runtime     = "python312"
    entry_point = var.name
    source {
      storage_source {
        bucket = var.bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = 0
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = 1
    available_memory                 = var.memory
    timeout_seconds                  = var.timeout_seconds
    # Only the public functions (the citizen form, the agency API) take traffic from the
    # internet. The others are reached only by Pub/Sub pushes and Cloud Scheduler, which
    # Cloud Run counts as internal traffic from the same project, so they refuse the rest.
    ingress_settings               = var.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function.email
    environment_variables          = var.environment

    dynamic "secret_environment_variables" {
      for_each = var.secret_environment
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.secret]
}

# Gen 2 functions are Cloud Run services of the same name: invoking them is
# roles/run.invoker on that service.
resource "google_cloud_run_service_iam_member" "public" {
  # checkov:skip=CKV_GCP_102:Only for var.public functions: the citizen form takes anonymous reports by design and the agency API authenticates with its own API keys.
  count    = var.public ? 1 : 0
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.function.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
