# The reports' files (docs/storage.md): one private bucket. Nobody reads it directly:
# reporters and agency staff get short-lived V4 signed URLs, signed through IAM
# signBlob by the function that hands them out, so a URL carries that function's
# access to one object and nothing more.

locals {
  attachments_bucket = "${var.project_id}-lapor-attachments"

  # The functions that handle files, and what each may do with them: the form and the
  # JSON API store a report's files and hand the reporter links (submit); the agency
  # API and the console show them to the handling agency and store staff's follow-up
  # files (agency, console); route promotes the files of a commit whose function died
  # before it could (shared.usecases.evidence: a copy reads uploads/reports/ and
  # creates under reports/). No grant deletes: files waiting under uploads/ expire by
  # the lifecycle rule below, and nothing else is removed by a function.
  attachment_roles = {
    submit  = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
    agency  = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
    console = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
    route   = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
  }

  # Route's grants hold only for the reports' files, staged or promoted: not a client's
  # raw direct upload (uploads/raw/), and no listing of the bucket.
  attachment_conditions = {
    route = {
      title       = "reports-files-only"
      description = "Promotion copies uploads/reports/ to reports/ and reads nothing else."
      expression  = "resource.name.startsWith(\"projects/_/buckets/${local.attachments_bucket}/objects/reports/\") || resource.name.startsWith(\"projects/_/buckets/${local.attachments_bucket}/objects/uploads/reports/\")"
    }
  }

  # The functions that hand out signed links, each signing as itself (route hands out none).
  signing_functions = toset(["submit", "agency", "console"])
}

resource "google_storage_bucket" "attachments" {
  # checkov:skip=CKV_GCP_62:Every read and write is recorded by the Data Access audit logs enabled below (who, which object, when); bucket access logs would repeat them in a second bucket.
  # checkov:skip=CKV_GCP_78:A deleted file must be gone (a withdrawn photo, an anonymous reporter's document): versioning would keep its old generations.
  project                     = var.project_id
  name                        = local.attachments_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # A direct upload that never completed leaves parts behind: abort it after a day.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Files land under uploads/ first and are kept only once their report is saved
  # (copied under reports/): what is still there after a day belongs to no report.
  lifecycle_rule {
    condition {
      age            = 1
      matches_prefix = ["uploads/"]
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

# Bucket-level grants only, to exactly the functions of local.attachment_roles.
resource "google_storage_bucket_iam_member" "function_attachments" {
  for_each = {
    for pair in flatten([
      for name, roles in local.attachment_roles : [
        for role in roles : { function = name, role = role }
      ]
    ]) : "${pair.function}/${pair.role}" => pair
  }
  bucket = google_storage_bucket.attachments.name
  role   = each.value.role
  member = module.function[each.value.function].service_account_member

  dynamic "condition" {
    for_each = try([local.attachment_conditions[each.value.function]], [])
    content {
      title       = condition.value.title
      description = condition.value.description
      expression  = condition.value.expression
    }
  }
}

# Signing a URL without a key file: each of these functions signs as itself through
# the IAM signBlob API, which needs the token creator role on its own account only.
resource "google_service_account_iam_member" "function_signs_urls" {
  for_each           = local.signing_functions
  service_account_id = "projects/${var.project_id}/serviceAccounts/${module.function[each.key].service_account_email}"
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = module.function[each.key].service_account_member
}

# Who read or wrote which file: Data Access audit logs for Cloud Storage.
resource "google_project_iam_audit_config" "storage" {
  project = var.project_id
  service = "storage.googleapis.com"
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
