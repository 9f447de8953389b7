"""Data API sign-up: a business registers an `api_client` account and confirms its address by a link."""
