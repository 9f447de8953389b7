"""Known places: the seed's home and office from settings, and each driver's own (home, work, customers)."""
