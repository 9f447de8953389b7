from __future__ import annotations

from carpulse.errors import Conflict, Forbidden, NotFound, Unauthorized


class CarNotFound(NotFound):
    """No such car among the caller's (owned or shared)."""

    slug = "car-not-found"
    title = "Car not found"


class CarOwnerRequired(Forbidden):
    """Only the car's owner may do this; its other drivers may read it and record trips."""

    slug = "car-owner-required"
    title = "Only the car's owner may do this"


class CarDriverNotFound(NotFound):
    """No such driver on this car."""

    slug = "car-driver-not-found"
    title = "Driver not found"


class CarDriverExists(Conflict):
    """That address already drives this car."""

    slug = "car-driver-exists"
    title = "Already a driver of this car"


class WebhookTokenNotFound(NotFound):
    """No such webhook token on this car."""

    slug = "webhook-token-not-found"
    title = "Webhook token not found"


class InvalidWebhookToken(Unauthorized):
    """The webhook token is missing, unknown or revoked: nothing was stored."""

    slug = "invalid-webhook-token"
    title = "Invalid webhook token"


class CarHasLockedTrips(Conflict):
    """The car's logbook holds locked trips, which the law makes us keep: the car cannot be deleted."""

    slug = "car-has-locked-trips"
    title = "The car's logbook holds locked trips"
