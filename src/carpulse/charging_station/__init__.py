"""Charging-station search for the Logbook, through Open Charge Map."""
