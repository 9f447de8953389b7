"""The consumer runs the sweeps declared beside their tasks, each on its own period."""

from __future__ import annotations

from carpulse.consumer import register_tasks
from carpulse.worker import registered_schedules


def test_the_sweeps_are_declared_beside_their_tasks() -> None:
    register_tasks()
    periods = {schedule.name: schedule.every_seconds for schedule in registered_schedules()}

    assert periods == {
        "inbound_event.requeue_unhandled": None,
        "report.requeue_lost": None,
        "report.revoke_refunded": None,
        "report.delete_expired": 3600.0,
        "mail.requeue_lost": None,
        "usage.forget_kept_answers": 3600,
        "trip.requeue_pending": None,
        "trip.recover": None,
        "trip.thin_tracks": 3600.0,
    }
