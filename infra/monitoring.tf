# Optional alerting (var.alert_email): a message dead-lettered, or a push subscription
# whose oldest message has waited more than 30 minutes (a function failing for every
# message). Nothing is created without an address.

locals {
  alerting = var.alert_email == null ? {} : { email = var.alert_email }
  # The push subscriptions only: a dead-letter hold is meant to keep its messages.
  push_subscription_filter = "resource.labels.subscription_id = one_of(${join(", ", [for name in keys(local.subscriptions) : "\"${name}\""])})"
}

resource "google_monitoring_notification_channel" "email" {
  for_each     = local.alerting
  project      = var.project_id
  display_name = "Lapor alerts"
  type         = "email"
  labels = {
    email_address = each.value
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "delivery" {
  for_each     = local.alerting
  project      = var.project_id
  display_name = "Lapor: Pub/Sub delivery failing"
  combiner     = "OR"

  conditions {
    display_name = "A message was dead-lettered"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  conditions {
    display_name = "A push subscription is stuck"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.push_subscription_filter}"
      comparison      = "COMPARISON_GT"
      threshold_value = 1800
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email[each.key].id]

  documentation {
    content   = "A dead-lettered message is handled by the subscription on its dead-letter topic (see infra/topology.json): a report routing gave up on waits for an admin, a webhook given up on is marked failed on the report's deliveries. A stuck subscription means its function fails for every message: read its logs. See docs/deploy.md."
    mime_type = "text/markdown"
  }
}
