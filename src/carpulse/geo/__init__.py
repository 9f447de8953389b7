"""Geography shared by the Logbook: GPS tracks and their length, time zones, addresses and road distances."""
