"""A fake of Nominatim's reverse geocoding, as an ASGI app (mounted under `/_sandbox/nominatim`)."""

from fakes.nominatim.fake import LICENCE, NominatimFake

__all__ = ["LICENCE", "NominatimFake"]
