"""Outgoing mail: a durable outbox written in the request's transaction, sent by a job after commit."""
