"""The Logbook's cars, the drivers who share them, and the webhook tokens their phones send trips with."""
