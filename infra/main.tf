# Lapor on Google Cloud: one Cloud Function (2nd gen) per functions/<name>/, each with
# its own service account holding the fewest roles, over Firestore and Pub/Sub.
#
# Deploy: `make bundle` (writes build/<name>.zip and refreshes topology.json), then
# terraform init / plan / apply -var project_id=... (see docs/deploy.md).

data "google_project" "this" {
  project_id = var.project_id
}

# Kept in a block of its own so tests can evaluate every other local with
# `terraform console`, without providers, by overriding this one.
locals {
  project_number = data.google_project.this.number
}

locals {
  # The topics, push subscriptions, schedules and setting names, generated from
  # shared/topology.py and shared/config.py by `python -m tools.export_topology`:
  # defined once for the local stack and for production.
  topology = jsondecode(file("${path.module}/topology.json"))

  bundle_dir = "${path.module}/../build"

  # What each function may do besides reading and writing Firestore (which every
  # function does: roles/datastore.user). Topics are granted one by one
  # (roles/pubsub.publisher on that topic only). Only submit, agency and console are
  # public: citizens use the form anonymously, agency checks API keys in its own code
  # and console its staff sessions.
  # Every functions/<name>/main.py needs an entry here (tests/infra checks it).
  function_specs = {
    submit = {
      description = "Citizen form, JSON API, tracking pages and reporter actions."
      public      = true
      # Decoding and re-encoding photos (shared/domain/attachments.py): a 48 MP phone
      # photo is ~200 MB of RGBA while it is redrawn, five of them in one request.
      memory = "1Gi"
      # Seals each new reporter's identity and can never open one: the public keyset,
      # and the key of the contact digests that match "Lost your link?" and the masks
      # the reporter's own view shows (docs/personal-data.md).
      secrets = ["LAPOR_TOKEN_SECRET", "LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_CONTACT_HASH_KEY"]
      # A report to route, the reporter told it was accepted (or sent the link again),
      # the handling agency told of a reply, an answered hold or a reopening.
      publishes = ["agency-notifications", "report-submitted", "reporter-notifications"]
    }
    route = {
      description = "Routes report.submitted (Pub/Sub push) and tells the agency or the admin who must route it."
      public      = false
      publishes   = ["agency-notifications"]
    }
    notify = {
      description = "Tells agencies (webhook, e-mail) and reporters (e-mail, SMS); Pub/Sub push, retried, dead-lettered."
      public      = false
      publishes   = []
      # The only functions that talk to the mail relay and the SMS gateway; it opens
      # the reporter's sealed contacts to write to them, and the agencies' sealed
      # signing secrets to sign their webhooks.
      secrets = ["LAPOR_TOKEN_SECRET", "LAPOR_SMTP_PASSWORD", "LAPOR_SMS_API_KEY", "LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_IDENTITY_PRIVATE_KEYSET", "LAPOR_SIGNING_PUBLIC_KEYSET", "LAPOR_SIGNING_PRIVATE_KEYSET"]
    }
    agency = {
      description = "Agency and admin API (API keys checked in code); re-routing republishes."
      public      = true
      memory      = "1Gi" # a follow-up's photos are decoded as the form's are
      # A named reporter's identity for staff who ask (recorded), and the dossier.
      secrets = ["LAPOR_TOKEN_SECRET", "LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_IDENTITY_PRIVATE_KEYSET"]
      # Re-routing, and whom each action tells (shared/usecases/notices.py).
      publishes = ["agency-notifications", "report-submitted", "reporter-notifications"]
    }
    console = {
      description = "Staff console: server-rendered pages (sessions and second factor checked in code)."
      public      = true
      memory      = "1Gi" # a follow-up's photos are decoded as the form's are
      # A named reporter's identity for staff who ask (recorded); an agency's signing
      # secret sealed at its rotation, and opened to sign the admin's test ping; the
      # staff's TOTP secrets, sealed at enrolment and opened to check a code.
      secrets = ["LAPOR_TOKEN_SECRET", "LAPOR_IDENTITY_PUBLIC_KEYSET", "LAPOR_IDENTITY_PRIVATE_KEYSET", "LAPOR_SIGNING_PUBLIC_KEYSET", "LAPOR_SIGNING_PRIVATE_KEYSET", "LAPOR_TOTP_KEYSET"]
      # The same actions as the agency API (re-routing, whom each action tells), and the
      # staff e-mails (invitation, password reset) through the outbox.
      publishes = ["agency-notifications", "report-submitted", "reporter-notifications"]
    }
    # The daily jobs walk every due report (escalate) or count every scope (report) in
    # one request: they may run as long as a Cloud Scheduler attempt may wait (its HTTP
    # deadline is at most 30 minutes), not a push's minute. Measured by `make bench`
    # (bench/results/jobs.json): how many due reports one run gets through in that time.
    escalate = {
      description     = "Daily run: escalations, closing silent resolved reports, archiving silent holds (Cloud Scheduler)."
      public          = false
      publishes       = ["agency-notifications", "reporter-notifications"]
      timeout_seconds = 1800
    }
    report = {
      description     = "Daily figures: counters summed per agency, region and nation, stored and pushed (Cloud Scheduler)."
      public          = false
      publishes       = ["agency-notifications"]
      timeout_seconds = 1800
    }
    retention = {
      description = "Daily run: erases reporters' identities and contact details kept past the retention period (Cloud Scheduler)."
      public      = false
      # Erasing deletes the sealed identity without opening it: no keyset, and it tells
      # nobody (shared/usecases/notices.py: an erasure is told to no one).
      publishes = []
    }
    digest = {
      description = "Hourly e-mail digest to the agencies that chose one (Cloud Scheduler)."
      public      = false
      publishes   = []
      secrets     = ["LAPOR_TOKEN_SECRET", "LAPOR_SMTP_PASSWORD"]
    }
    sweep = {
      description = "Republishes outbox entries the bus never got (Cloud Scheduler)."
      public      = false
      # Whatever the others publish goes through the outbox, so the sweeper may have to
      # republish it: the union of the lists above (tests/infra checks it).
      publishes = ["agency-notifications", "report-submitted", "reporter-notifications"]
    }
  }

  # Environment variable -> Secret Manager secret id, for the secrets only some
  # functions may read: the channels' credentials and the keysets.
  channel_secrets = {
    LAPOR_SMTP_PASSWORD           = var.smtp_password_secret_id
    LAPOR_SMS_API_KEY             = var.sms_api_key_secret_id
    LAPOR_IDENTITY_PUBLIC_KEYSET  = var.identity_public_keyset_secret_id
    LAPOR_IDENTITY_PRIVATE_KEYSET = var.identity_private_keyset_secret_id
    LAPOR_SIGNING_PUBLIC_KEYSET   = var.signing_public_keyset_secret_id
    LAPOR_SIGNING_PRIVATE_KEYSET  = var.signing_private_keyset_secret_id
    LAPOR_CONTACT_HASH_KEY        = var.contact_hash_key_secret_id
    LAPOR_TOTP_KEYSET             = var.totp_keyset_secret_id
  }

  # Every secret a spec may name -> its Secret Manager secret id.
  secret_ids = merge(
    { LAPOR_TOKEN_SECRET = google_secret_manager_secret.token_secret.secret_id },
    { for name, secret in google_secret_manager_secret.channel : name => secret.secret_id },
  )

  default_sizing = {
    memory          = "512Mi"
    max_instances   = 10
    timeout_seconds = 60
  }

  functions = {
    for name, spec in local.function_specs : name => merge(spec, {
      memory          = coalesce(try(var.function_overrides[name].memory, null), try(spec.memory, null), local.default_sizing.memory)
      max_instances   = coalesce(try(var.function_overrides[name].max_instances, null), local.default_sizing.max_instances)
      timeout_seconds = coalesce(try(var.function_overrides[name].timeout_seconds, null), try(spec.timeout_seconds, null), local.default_sizing.timeout_seconds)
    })
  }

  # Every function gets the same settings. Cloud Run's deterministic URL of submit is
  # the base of the links the form hands out (override with a custom domain), and one
  # proxy (Google's front end) appends to X-Forwarded-For (2 behind a load balancer).
  environment = merge(
    {
      LAPOR_PUBLIC_BASE_URL    = "https://submit-${local.project_number}.${var.region}.run.app"
      LAPOR_CONSOLE_URL        = "https://console-${local.project_number}.${var.region}.run.app"
      LAPOR_TRUSTED_PROXY_HOPS = "1"
    },
    var.settings,
    {
      LAPOR_PROJECT            = var.project_id
      LAPOR_ATTACHMENTS_BUCKET = local.attachments_bucket
      # Opens the KMS-wrapped private keyset where it is mounted (infra/kms.tf).
      LAPOR_IDENTITY_KMS_KEY_URI = local.identity_kms_key_uri
    },
  )

  services = [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "this" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# ------------------------------------------------------------------ source and secret

resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_62:Holds only the functions' build zips (open-source code); Cloud Audit Logs record who changes it, access logs would add cost and no insight.
  # checkov:skip=CKV_GCP_78:Objects are named by their md5 and never overwritten, so versioning would keep nothing new.
  project                     = var.project_id
  name                        = "${var.project_id}-lapor-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.this]
}

# The secret that signs reporter tokens. Only the secret is managed here: its value is
# added out of band (`gcloud secrets versions add`), so it never enters Terraform state.
resource "google_secret_manager_secret" "token_secret" {
  project   = var.project_id
  secret_id = var.token_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

# The mail relay's password and the SMS gateway's key, mounted only into the functions
# whose spec names them (notify, digest). As with the token secret, Terraform creates
# the secrets and never their values (`gcloud secrets versions add`).
resource "google_secret_manager_secret" "channel" {
  for_each  = local.channel_secrets
  project   = var.project_id
  secret_id = each.value

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

# ------------------------------------------------------------------------- functions

module "function" {
  source   = "./modules/function"
  for_each = local.functions

  project_id      = var.project_id
  region          = var.region
  name            = each.key
  description     = each.value.description
  bucket          = google_storage_bucket.sources.name
  bundle_zip      = "${local.bundle_dir}/${each.key}.zip"
  public          = each.value.public
  memory          = each.value.memory
  max_instances   = each.value.max_instances
  timeout_seconds = each.value.timeout_seconds
  environment     = local.environment
  # Only the secrets the function's spec names (tests/infra holds each list to the
  # code that reads it): a function whose code never signs a token has no token secret.
  secret_environment = {
    for name in try(each.value.secrets, []) : name => local.secret_ids[name]
  }

  depends_on = [google_project_service.this]
}

# Firestore: every function reads and writes documents. Firestore has no narrower
# grant than the database, so this is the one project-level role a function holds.
resource "google_project_iam_member" "function_datastore_user" {
  for_each = local.functions
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = module.function[each.key].service_account_member
}

# Pub/Sub: publisher on exactly the topics a function publishes to.
resource "google_pubsub_topic_iam_member" "function_publisher" {
  for_each = {
    for pair in flatten([
      for name, spec in local.functions : [
        for topic in spec.publishes : { function = name, topic = topic }
      ]
    ]) : "${pair.function}/${pair.topic}" => pair
  }
  project = var.project_id
  topic   = google_pubsub_topic.this[each.value.topic].name
  role    = "roles/pubsub.publisher"
  member  = module.function[each.value.function].service_account_member
}
