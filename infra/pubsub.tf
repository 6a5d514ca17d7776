# Topics and push subscriptions from topology.json (shared/topology.py).
#
# Why explicit push subscriptions, not the functions' event_trigger: an event_trigger
# makes Eventarc create a subscription of its own, whose retry policy (and any
# dead-letter topic) is not ours to set here, so production would not retry and
# dead-letter as the local stack and the tests do. A push subscription we create
# carries exactly the dead-letter topic, delivery attempts, backoff and ack deadline of
# shared/topology.py, and pushes the same envelope the emulator pushes locally, which
# functions-framework turns into a CloudEvent either way. Pub/Sub authenticates each
# push with an OIDC token of a service account that may invoke only the push targets.

locals {
  subscriptions  = { for s in local.topology.subscriptions : s.name => s }
  push_functions = toset([for s in local.topology.subscriptions : s.push_function])

  dead_lettering_subscriptions = {
    for name, s in local.subscriptions : name => s if s.dead_letter_topic != null
  }
  dead_letter_topics = toset([for s in local.dead_lettering_subscriptions : s.dead_letter_topic])

  # Dead-letter topics nobody subscribes to: a pull subscription keeps what lands
  # there for a week, so an operator can read it (messages on a topic without a
  # subscription are dropped).
  unread_dead_letter_topics = setsubtract(
    local.dead_letter_topics,
    toset([for s in local.topology.subscriptions : s.topic]),
  )

  pubsub_service_agent = "serviceAccount:service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "this" {
  # checkov:skip=CKV_GCP_83:Messages carry report ids and privacy-filtered views, never an identity or contact detail; Google-managed encryption at rest suffices and a customer key would add KMS cost and an outage risk.
  for_each = toset(local.topology.topics)
  project  = var.project_id
  name     = each.value

  message_retention_duration = "604800s"

  depends_on = [google_project_service.this]
}

# The identity Pub/Sub presents to the functions it pushes to.
resource "google_service_account" "pubsub_push" {
  project      = var.project_id
  account_id   = "lapor-pubsub-push"
  display_name = "Lapor Pub/Sub push"
  description  = "OIDC identity of Lapor's push subscriptions: run.invoker on the push targets only."
}

resource "google_cloud_run_service_iam_member" "pubsub_push_invoker" {
  for_each = local.push_functions
  project  = var.project_id
  location = var.region
  service  = module.function[each.value].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

# Pub/Sub mints the push tokens as this account (needed in projects made before
# April 2021; harmless after), on this one account only.
resource "google_service_account_iam_member" "pubsub_push_token_creator" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service.this]
}

resource "google_pubsub_subscription" "push" {
  for_each = local.subscriptions
  project  = var.project_id
  name     = each.key
  topic    = google_pubsub_topic.this[each.value.topic].id

  ack_deadline_seconds = each.value.ack_deadline_s

  push_config {
    push_endpoint = module.function[each.value.push_function].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = module.function[each.value.push_function].uri
    }
  }

  retry_policy {
    minimum_backoff = "${each.value.min_backoff_s}s"
    maximum_backoff = "${each.value.max_backoff_s}s"
  }

  # A subscription reading a dead-letter topic has none of its own (its handler only
  # records the failure): it retries with backoff for as long as the message is kept.
  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter_topic == null ? [] : [each.value]
    content {
      dead_letter_topic     = google_pubsub_topic.this[dead_letter_policy.value.dead_letter_topic].id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }

  # Never expire for inactivity: a quiet month must not delete the route subscription.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.pubsub_push_invoker,
    google_service_account_iam_member.pubsub_push_token_creator,
  ]
}

resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each = local.unread_dead_letter_topics
  project  = var.project_id
  name     = "${each.value}-hold"
  topic    = google_pubsub_topic.this[each.value].id

  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it must be able to publish to
# each dead-letter topic and to acknowledge on each source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics
  project  = var.project_id
  topic    = google_pubsub_topic.this[each.value].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.dead_lettering_subscriptions
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
