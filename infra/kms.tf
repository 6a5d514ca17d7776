# The Cloud KMS key that wraps the private identity keyset (docs/personal-data.md).
#
# The secret LAPOR_IDENTITY_PRIVATE_KEYSET holds Tink's encrypted keyset, made by
# `python -m tools.identity_keys DIR --kms-key-uri <output identity_kms_key_uri>`:
# a copy of the secret alone opens no identity. Only the functions whose spec mounts
# the private keyset (notify, agency, console) may decrypt with this key; submit, which
# seals with the public keyset, gets no role on it.

locals {
  kms_key_ring     = "lapor"
  identity_kms_key = "identity-keyset"
  # Spelled out rather than read from the resource, so every function's settings are
  # known at plan time.
  identity_kms_key_uri = "gcp-kms://projects/${var.project_id}/locations/${var.region}/keyRings/${local.kms_key_ring}/cryptoKeys/${local.identity_kms_key}"
  identity_readers = toset([
    for name, spec in local.function_specs : name
    if contains(try(spec.secrets, []), "LAPOR_IDENTITY_PRIVATE_KEYSET")
  ])
}

resource "google_kms_key_ring" "lapor" {
  project  = var.project_id
  name     = local.kms_key_ring
  location = var.region

  depends_on = [google_project_service.this]
}

resource "google_kms_crypto_key" "identity_keyset" {
  name     = local.identity_kms_key
  key_ring = google_kms_key_ring.lapor.id
  purpose  = "ENCRYPT_DECRYPT"
  # A new key version every 90 days; the old versions still decrypt the keyset
  # wrapped under them, so rotation needs no re-wrapping.
  rotation_period = "7776000s"

  lifecycle {
    # Destroying it makes the wrapped keyset, and so every sealed identity, unreadable.
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "identity_keyset_decrypter" {
  for_each      = local.identity_readers
  crypto_key_id = google_kms_crypto_key.identity_keyset.id
  role          = "roles/cloudkms.cryptoKeyDecrypter"
  member        = module.function[each.key].service_account_member
}
