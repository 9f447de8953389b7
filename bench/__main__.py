"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

from bench import (
    charging,
    data_api,
    logbook,
    pages,
    platform,
    render_fairness,
    reports,
    tesla_acquisition,
    trip_geometry,
    webhooks,
)
from carpulse.kit.logs import configure_logging


def main() -> None:
    configure_logging("WARNING")
    platform.run()
    tesla_acquisition.run()
    webhooks.run()
    charging.run()
    reports.run()
    render_fairness.run()
    data_api.run()
    trip_geometry.run()
    logbook.run()
    pages.run()


if __name__ == "__main__":
    main()
