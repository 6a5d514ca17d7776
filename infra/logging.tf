# Reporter tokens and one-time staff tokens travel in URLs: the private link's
# ?token=, the SMS short link /l/<code>-<short token>, an e-mail's unsubscribe link
# /berhenti/<token>, the console's /undangan/<token> and /sandi/<token>. Cloud Run
# writes each request's full URL to its request log, which everyone with
# roles/logging.viewer on the project reads: those requests are kept out of it. The
# functions' own log lines name no token (tests/functional/test_no_leaks.py scans them),
# so such a request is still seen, with its status and latency, in the app's log.
resource "google_logging_project_exclusion" "request_urls_with_tokens" {
  project     = var.project_id
  name        = "lapor-request-urls-with-tokens"
  description = "Lapor: request logs whose URL carries a reporter or staff token (docs/personal-data.md)."
  filter      = "log_id(\"run.googleapis.com/requests\") AND httpRequest.requestUrl=~\"([?&]token=|/(l|berhenti|undangan|sandi)/[^/?]+)\""
}
