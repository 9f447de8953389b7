"""A fake of Google's Geocoding and Directions web services, as an ASGI app (mounted under `/_sandbox/google_maps`)."""

from fakes.google_maps.fake import DEFAULT_KEY, MAX_WAYPOINTS, GoogleMapsFake, encode_polyline
from fakes.google_maps.gazetteer import CITIES, STREETS, City, Street

__all__ = ["CITIES", "DEFAULT_KEY", "MAX_WAYPOINTS", "STREETS", "City", "GoogleMapsFake", "Street", "encode_polyline"]
