"""The Logbook's use cases that span its domains: places that re-label trips, and a driver's data export and erasure."""
