"""Calls to vendors over an injected `httpx.AsyncClient`, with the resilience every vendor client shares."""

from carpulse.kit.http.client import IDEMPOTENT_METHODS, Attempts, CircuitOpen, RetryPolicy, VendorHttp
from carpulse.kit.http.retry_after import retry_after_seconds

__all__ = ["IDEMPOTENT_METHODS", "Attempts", "CircuitOpen", "RetryPolicy", "VendorHttp", "retry_after_seconds"]
