"""Google as the Logbook's identity provider: an OpenID Connect client over the shared vendor HTTP client."""
