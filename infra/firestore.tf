# Firestore (native mode), its composite indexes and field overrides, from
# firestore_indexes.json (the Firebase CLI's format, so `firebase deploy --only
# firestore:indexes` reads the same file). The emulator needs no index; production
# refuses a query without one, and tests/unit/test_firestore_indexes.py checks the file
# covers every composite query the code runs.

locals {
  firestore_config = jsondecode(file("${path.module}/firestore_indexes.json"))

  composite_indexes = {
    for index in local.firestore_config.indexes :
    "${index.collectionGroup}:${join(",", [
      for field in index.fields : "${field.fieldPath}:${try(field.order, try(field.arrayConfig, ""))}"
    ])}" => index
  }

  # TTL policies ("ttl": true: Firestore deletes a document some time after the
  # timestamp in that field passes) and single-field index exemptions ("indexes": []).
  field_overrides = {
    for override in try(local.firestore_config.fieldOverrides, []) :
    "${override.collectionGroup}.${override.fieldPath}" => override
  }
}

resource "google_firestore_database" "this" {
  project     = var.project_id
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # The reports are the product: neither Terraform nor a mistaken destroy deletes them.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.this]
}

resource "google_firestore_index" "composite" {
  for_each    = local.composite_indexes
  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = each.value.collectionGroup
  query_scope = try(each.value.queryScope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)
    }
  }
}

resource "google_firestore_field" "override" {
  for_each   = local.field_overrides
  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  dynamic "ttl_config" {
    for_each = try(each.value.ttl, false) ? [true] : []
    content {}
  }

  # "indexes": [] gives an empty index_config: no single-field index at all (large
  # text nobody queries; TTL timestamps, which would otherwise hotspot).
  dynamic "index_config" {
    for_each = can(each.value.indexes) ? [each.value.indexes] : []
    content {
      dynamic "indexes" {
        for_each = index_config.value
        content {
          order        = try(indexes.value.order, null)
          array_config = try(indexes.value.arrayConfig, null)
          query_scope  = try(indexes.value.queryScope, "COLLECTION")
        }
      }
    }
  }
}
