from __future__ import annotations

from pydantic import BaseModel, Field


class Erased(BaseModel):
    cars: int = Field(description="cars deleted with their trips (those you owned and nobody else drives)")
    cars_handed_over: int = Field(description="cars you owned that other drivers share: now owned by the next of them")
    trips: int
    events: int
    places: int
    webhook_tokens: int
    kept_locked_trips: int = Field(description="trips locked in a tax logbook, which the law makes us keep")
    kept_note: str
