"""Open Charge Map's API v3: a typed client, its payloads, its failures, and their mapping to our stations."""
