"""Charging: Supercharger history and invoices of connected vehicles, as JSON, CSV, PDF and streamed ZIP."""
