"""Vehicle photos: validated by their bytes, refused before decoding when too big, re-encoded without metadata.

Only the content decides the type (the file name and declared type never reach this module). The output
is a fresh image: no EXIF (so no GPS), no XMP, no comments, no text chunks and no ICC profile; colours in
an embedded profile are converted to sRGB first, so the pixels still look right and the profile's device
strings stay with us. An animated PNG (APNG) or a multi-picture JPEG (MPO, common from phone cameras) is
accepted and keeps only its first picture, because the report shows a still image.

Sizes follow the report's layout: a photo is shown at most 88 × 70 mm (`templates/report.html`), which
is 2079 × 1654 pixels even at 600 dpi, so the stored copy is at most 2048 pixels a side. A JPEG is
decoded at a reduced scale (`Image.draft`) no smaller than that, so a 24-megapixel camera frame costs
about a quarter of its pixels; a PNG has no such shortcut and is decoded whole, so it may have at most
12 megapixels (a 4000 × 3000 frame, six times the stored copy). Decoding runs in the document process
pool (`prepare_photo_off_loop`), never on the API's event loop or under its GIL.
"""

from __future__ import annotations

import enum
import hashlib
import io
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageCms, ImageFile, ImageOps

from carpulse.kit.documents import run_in_document_pool
from carpulse.report.errors import (
    PhotoDimensionsTooLarge,
    PhotoLimitReached,
    PhotoTooLarge,
    PhotoTypeUnsupported,
    PhotoUnreadable,
)

ACCEPTED_CONTENT_TYPES = ("image/jpeg", "image/png")

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# What Pillow raises for a file that starts right but breaks while its header or pixels are read.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
_SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """What an uploaded photo may be, and how the stored copy is made."""

    max_bytes: int = 15 * 1024 * 1024
    max_pixels: int = 24_000_000
    max_png_pixels: int = 12_000_000
    max_side: int = 8_192
    max_photos_per_session: int = 10
    output_max_side: int = 2048
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        for name in (
            "max_bytes",
            "max_pixels",
            "max_png_pixels",
            "max_side",
            "max_photos_per_session",
            "output_max_side",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 1 <= self.jpeg_quality <= 95:
            # Pillow's own advice: above 95 the file grows with no visible gain.
            raise ValueError("jpeg_quality must be between 1 and 95")


DEFAULT_LIMITS = PhotoLimits()


class PhotoFormat(enum.Enum):
    """The formats we accept, by Pillow's name for them."""

    JPEG = "JPEG"
    PNG = "PNG"


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """A photo ready to store: re-encoded bytes with no metadata, their type, size and SHA-256."""

    data: bytes
    content_type: Literal["image/jpeg", "image/png"]
    extension: Literal["jpg", "png"]
    width: int
    height: int
    sha256: str


def check_photo_count(existing: int, limits: PhotoLimits = DEFAULT_LIMITS) -> None:
    """Refuse one more photo when the session already holds `existing` photos and that is the limit."""
    if existing >= limits.max_photos_per_session:
        raise PhotoLimitReached(
            f"A report session holds at most {limits.max_photos_per_session} photos.",
            limit=limits.max_photos_per_session,
        )


def prepare_photo(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> PreparedPhoto:
    """Validate an uploaded photo by its content and re-encode it upright, downscaled and without metadata.

    CPU-bound and synchronous: call `prepare_photo_off_loop` from the API.
    """
    if len(data) > limits.max_bytes:
        raise PhotoTooLarge(
            f"The photo has {len(data)} bytes; the limit is {limits.max_bytes}.", limit=limits.max_bytes
        )
    kind = sniff_format(data)
    image = _decoded(data, kind, limits)
    icc_profile = image.info.get("icc_profile")
    ImageOps.exif_transpose(image, in_place=True)
    working = _working_mode(image, kind)
    working.thumbnail((limits.output_max_side, limits.output_max_side), Image.Resampling.LANCZOS)
    return _encoded(_in_srgb(working, icc_profile), kind, limits)


async def prepare_photo_off_loop(data: bytes, limits: PhotoLimits = DEFAULT_LIMITS) -> PreparedPhoto:
    """`prepare_photo` in the document process pool; its refusals come back as the same problems."""
    return await run_in_document_pool(prepare_photo, data, limits)


def sniff_format(data: bytes) -> PhotoFormat:
    """The photo's real format from its first bytes; anything but JPEG or PNG is refused."""
    if data.startswith(_JPEG_MAGIC):
        return PhotoFormat.JPEG
    if data.startswith(_PNG_MAGIC):
        return PhotoFormat.PNG
    raise PhotoTypeUnsupported(
        "Only JPEG and PNG photos are accepted; this file's content is neither.",
        accepted=list(ACCEPTED_CONTENT_TYPES),
    )


def _max_pixels(limits: PhotoLimits, kind: PhotoFormat) -> int:
    return limits.max_png_pixels if kind is PhotoFormat.PNG else limits.max_pixels


def _dimensions_too_large(
    limits: PhotoLimits, kind: PhotoFormat, size: tuple[int, int] | None = None
) -> PhotoDimensionsTooLarge:
    declared = f"is {size[0]}×{size[1]} pixels" if size else "declares too many pixels"
    max_pixels = _max_pixels(limits, kind)
    return PhotoDimensionsTooLarge(
        f"The {kind.value} photo {declared}; the limit is {max_pixels} pixels and {limits.max_side} pixels a side.",
        max_pixels=max_pixels,
        max_side=limits.max_side,
    )


def _decoded(data: bytes, kind: PhotoFormat, limits: PhotoLimits) -> Image.Image:
    """Open the header, check the dimensions it declares, then decode only what the output needs."""
    try:
        # Pillow raises its bomb error past twice `Image.MAX_IMAGE_PIXELS` and warns past it; with the
        # warnings filter set to "error" that warning is raised too. Both are a refusal here, and the
        # global threshold stays as it is for the rest of the process.
        image = Image.open(io.BytesIO(data), formats=[kind.value])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _dimensions_too_large(limits, kind) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoUnreadable(f"The file starts like a {kind.value} image but its header is broken.") from exc
    width, height = image.size
    if width * height > _max_pixels(limits, kind) or max(width, height) > limits.max_side:
        raise _dimensions_too_large(limits, kind, (width, height))
    # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale, still no smaller than the output: far less memory.
    image.draft(None, (limits.output_max_side, limits.output_max_side))
    try:
        with _strict_decoding():
            image.load()
    except _DECODE_ERRORS as exc:
        raise PhotoUnreadable(f"The {kind.value} image is truncated or corrupt.") from exc
    return image


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Truncated files fail to decode while we load, whoever flipped Pillow's process-wide switch.

    WeasyPrint sets `ImageFile.LOAD_TRUNCATED_IMAGES = True` when it is imported (in-process renders:
    tests, `carpulse demo`); a photo that silently decodes half grey would then pass as valid.
    """
    with _DECODING:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


_DECODING = threading.Lock()


def _working_mode(image: Image.Image, kind: PhotoFormat) -> Image.Image:
    """The image in a mode that resamples well and that its format stores: L, RGB, RGBA, or CMYK for a moment."""
    mode = image.mode
    if kind is PhotoFormat.JPEG:
        return image if mode in {"L", "RGB", "CMYK"} else image.convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in image.info:
        return image if mode == "RGBA" else image.convert("RGBA")
    if mode in _SIXTEEN_BIT_MODES:
        # Pillow's conversion clips 16-bit grey at 255; scaling keeps the picture instead of a white sheet.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if mode in {"L", "RGB"}:
        return image
    return image.convert("L" if mode == "1" else "RGB")


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Colours converted from the embedded profile to sRGB, and CMYK to RGB; a profile we cannot use is ignored."""
    target = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc_profile and image.mode in {"RGB", "RGBA", "CMYK"}:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # broken, or for another colour space than the pixels: treat them as sRGB
        if converted is not None:
            return converted
    return image.convert(target) if image.mode == "CMYK" else image


def _encoded(image: Image.Image, kind: PhotoFormat, limits: PhotoLimits) -> PreparedPhoto:
    # A new image starts with empty `info`: Pillow's encoders copy a JPEG comment, a PNG ICC profile
    # and transparency from `info` unless told otherwise, so nothing of the upload may ride along.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    if kind is PhotoFormat.JPEG:
        clean.save(buffer, "JPEG", quality=limits.jpeg_quality, optimize=True)
        content_type: Literal["image/jpeg", "image/png"] = "image/jpeg"
        extension: Literal["jpg", "png"] = "jpg"
    else:
        clean.save(buffer, "PNG")
        content_type, extension = "image/png", "png"
    data = buffer.getvalue()
    return PreparedPhoto(
        data=data,
        content_type=content_type,
        extension=extension,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(data).hexdigest(),
    )
