"""Vehicle photos: only JPEG and PNG by content, limits checked before decoding, output without metadata."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
import time
import warnings
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from carpulse.errors import PROBLEM_MEDIA_TYPE, CarPulseError, problem_catalogue, render_error
from carpulse.report.errors import (
    PhotoDimensionsTooLarge,
    PhotoLimitReached,
    PhotoTooLarge,
    PhotoTypeUnsupported,
    PhotoUnreadable,
)
from carpulse.report.photo import (
    DEFAULT_LIMITS,
    PhotoFormat,
    PhotoLimits,
    PreparedPhoto,
    check_photo_count,
    prepare_photo,
    sniff_format,
)

RED = (220, 30, 30)
BLUE = (30, 30, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
GPS_MAP_DATUM = 0x12
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(actual: Any, expected: tuple[int, ...], tolerance: int = 16) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares `width`×`height` 1-bit pixels and whose pixel data is garbage: decoding it fails."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"not zlib") + png_chunk(b"IEND", b"")


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "TeslaCam"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (60.0, 10.0, 12.5)
    gps[3] = "E"
    gps[4] = (24.0, 56.0, 3.25)
    gps[GPS_MAP_DATUM] = "WGS-84"
    return exif


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    return image


def assert_no_metadata(photo: PreparedPhoto) -> None:
    image = decode(photo.data)
    assert len(image.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    for marker in (b"Exif", b"eXIf", b"WGS-84", b"TeslaCam", b"http://ns.adobe.com/xap/1.0/", b"iCCP", b"ICC_PROFILE"):
        assert marker not in photo.data, marker


class TestGpsExifIsRemoved:
    def test_a_jpeg_with_gps_is_accepted_and_its_output_has_no_exif_at_all(self) -> None:
        upload = encode(halves(64, 48), "JPEG", exif=gps_exif())
        assert decode(upload).getexif().get_ifd(GPS_IFD)[GPS_MAP_DATUM] == "WGS-84"
        assert b"Exif" in upload
        assert b"WGS-84" in upload

        photo = prepare_photo(upload)

        assert photo.content_type == "image/jpeg"
        assert_no_metadata(photo)
        assert decode(photo.data).getexif().get_ifd(GPS_IFD) == {}

    def test_a_png_with_a_gps_exif_chunk_loses_it(self) -> None:
        upload = encode(halves(64, 48), "PNG", exif=gps_exif())
        assert b"eXIf" in upload

        photo = prepare_photo(upload)

        assert photo.content_type == "image/png"
        assert_no_metadata(photo)


class TestOtherMetadataIsRemoved:
    def test_jpeg_comment_and_xmp_are_dropped(self) -> None:
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">TeslaCam at home</x:xmpmeta>'
        upload = encode(halves(64, 48), "JPEG", comment=b"TeslaCam owner's phone", xmp=xmp)
        assert {"comment", "xmp"} <= set(decode(upload).info)

        photo = prepare_photo(upload)

        assert_no_metadata(photo)

    def test_png_text_chunks_are_dropped(self) -> None:
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "TeslaCam garage")
        text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>TeslaCam</x:xmpmeta>")
        upload = encode(halves(64, 48), "PNG", pnginfo=text)

        photo = prepare_photo(upload)

        assert_no_metadata(photo)
        assert decode(photo.data).info == {}

    def test_an_embedded_profile_is_applied_then_dropped(self) -> None:
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        upload = encode(Image.new("RGB", (32, 32), RED), "PNG", icc_profile=srgb)
        assert decode(upload).info["icc_profile"] == srgb

        photo = prepare_photo(upload)

        assert_no_metadata(photo)
        assert close(decode(photo.data).getpixel((16, 16)), RED, tolerance=2)

    def test_a_broken_profile_is_ignored_not_fatal(self) -> None:
        upload = encode(Image.new("RGB", (32, 32), BLUE), "JPEG", icc_profile=b"not an ICC profile")

        photo = prepare_photo(upload)

        assert_no_metadata(photo)
        assert close(decode(photo.data).getpixel((16, 16)), BLUE)

    def test_corrupt_exif_does_not_stop_a_good_picture(self) -> None:
        good = encode(halves(64, 48), "JPEG")
        broken_exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\xff"
        upload = good[:2] + b"\xff\xe1" + struct.pack(">H", len(broken_exif) + 2) + broken_exif + good[2:]

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow says "Corrupt EXIF data" and carries on
            photo = prepare_photo(upload)

        assert (photo.width, photo.height) == (64, 48)
        assert_no_metadata(photo)


class TestOrientationIsApplied:
    @pytest.mark.parametrize(
        ("orientation", "top", "bottom"),
        [(6, RED, BLUE), (8, BLUE, RED)],
        ids=["rotate-clockwise", "rotate-counter-clockwise"],
    )
    def test_the_output_is_upright_and_says_nothing_about_orientation(
        self, orientation: int, top: tuple[int, int, int], bottom: tuple[int, int, int]
    ) -> None:
        upload = encode(halves(200, 100), "JPEG", exif=gps_exif(orientation), quality=95)

        photo = prepare_photo(upload)

        image = decode(photo.data)
        assert (photo.width, photo.height) == image.size == (100, 200)
        assert close(image.getpixel((50, 40)), top)
        assert close(image.getpixel((50, 160)), bottom)
        assert ORIENTATION not in image.getexif()


class TestOnlyTheContentDecidesTheType:
    def test_a_png_stays_a_png_whatever_it_was_called(self) -> None:
        # An upload named "car.jpg" and declared image/jpeg: this function only ever sees its bytes.
        photo = prepare_photo(encode(halves(40, 30), "PNG"))

        assert (photo.content_type, photo.extension) == ("image/png", "png")
        assert photo.data.startswith(PNG_SIGNATURE)
        assert decode(photo.data).format == "PNG"

    def test_a_jpeg_stays_a_jpeg(self) -> None:
        photo = prepare_photo(encode(halves(40, 30), "JPEG"))

        assert (photo.content_type, photo.extension) == ("image/jpeg", "jpg")
        assert decode(photo.data).format == "JPEG"

    def test_the_format_is_sniffed_from_the_first_bytes(self) -> None:
        assert sniff_format(encode(halves(8, 8), "PNG")) is PhotoFormat.PNG
        assert sniff_format(encode(halves(8, 8), "JPEG")) is PhotoFormat.JPEG


def _other_formats() -> list[Any]:
    rgb = halves(16, 16)
    return [
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>', id="svg"),
        pytest.param(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', id="svg-with-xml"),
        pytest.param(encode(rgb, "GIF"), id="gif"),
        pytest.param(encode(rgb, "WEBP"), id="webp"),
        pytest.param(encode(rgb, "BMP"), id="bmp"),
        pytest.param(encode(rgb, "TIFF"), id="tiff"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, id="heic"),
        pytest.param(b"%PDF-1.7\n", id="pdf"),
        pytest.param(b"just some text pretending to be car.jpg", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b" " + encode(rgb, "PNG"), id="png-after-a-stray-byte"),
    ]


class TestOtherTypesAreRefused:
    @pytest.mark.parametrize("upload", _other_formats())
    def test_is_415(self, upload: bytes) -> None:
        with pytest.raises(PhotoTypeUnsupported) as refused:
            prepare_photo(upload)

        assert refused.value.status == 415
        assert refused.value.extensions == {"accepted": ["image/jpeg", "image/png"]}


class TestPixelLimits:
    def test_a_50_megapixel_png_is_422_and_fails_fast(self) -> None:
        upload = encode(Image.new("1", (10_000, 5_000)), "PNG")
        assert len(upload) < 100_000  # tiny on the wire, 50 MB once decoded

        started = time.perf_counter()
        with pytest.raises(PhotoDimensionsTooLarge) as refused:
            prepare_photo(upload)

        assert time.perf_counter() - started < 0.5
        assert refused.value.status == 422
        assert "10000×5000" in str(refused.value.detail)

    def test_the_dimensions_are_judged_from_the_header_before_any_pixel_is_decoded(self) -> None:
        # Its pixel data cannot be decoded (that would be PhotoUnreadable), so only the header was read.
        with pytest.raises(PhotoDimensionsTooLarge):
            prepare_photo(png_header_only(10_000, 5_000))
        with pytest.raises(PhotoUnreadable):
            prepare_photo(png_header_only(100, 50))

    def test_a_side_longer_than_the_limit_is_refused_even_with_few_pixels(self) -> None:
        with pytest.raises(PhotoDimensionsTooLarge):
            prepare_photo(png_header_only(DEFAULT_LIMITS.max_side + 1, 1))

    def test_the_limits_are_inclusive(self) -> None:
        limits = PhotoLimits(max_pixels=100 * 50, max_side=100)

        assert prepare_photo(encode(halves(100, 50), "PNG"), limits).width == 100
        with pytest.raises(PhotoDimensionsTooLarge):
            prepare_photo(encode(halves(101, 50), "PNG"), limits)
        with pytest.raises(PhotoDimensionsTooLarge):
            prepare_photo(encode(halves(50, 101), "PNG"), limits)

    def test_a_decompression_bomb_is_refused_even_under_generous_limits(self) -> None:
        generous = PhotoLimits(max_pixels=10**10, max_side=10**6)

        with pytest.raises(PhotoDimensionsTooLarge):
            prepare_photo(png_header_only(20_000, 12_000), generous)  # past Pillow's hard ceiling

    def test_pillows_bomb_warning_raised_as_an_error_is_still_a_422(self) -> None:
        generous = PhotoLimits(max_pixels=10**10, max_side=10**6)
        pixels_before = Image.MAX_IMAGE_PIXELS

        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with pytest.raises(PhotoDimensionsTooLarge):
                prepare_photo(png_header_only(10_000, 10_000), generous)
            with pytest.raises(PhotoDimensionsTooLarge):
                prepare_photo(png_header_only(10_000, 10_000))

        assert pixels_before == Image.MAX_IMAGE_PIXELS


class TestCorruptFilesAreUnreadable:
    def test_a_truncated_jpeg_is_422(self) -> None:
        whole = encode(Image.effect_noise((300, 300), 60).convert("RGB"), "JPEG")

        with pytest.raises(PhotoUnreadable) as refused:
            prepare_photo(whole[: len(whole) // 2])

        assert refused.value.status == 422

    def test_a_truncated_png_is_422(self) -> None:
        whole = encode(Image.effect_noise((300, 300), 60), "PNG")

        with pytest.raises(PhotoUnreadable):
            prepare_photo(whole[: len(whole) // 2])

    @pytest.mark.parametrize(
        "upload",
        [b"\xff\xd8\xff" + b"\x00" * 200, PNG_SIGNATURE + b"garbage" * 20],
        ids=["jpeg-magic-then-garbage", "png-signature-then-garbage"],
    )
    def test_the_right_first_bytes_then_garbage_is_422(self, upload: bytes) -> None:
        with pytest.raises(PhotoUnreadable):
            prepare_photo(upload)


class TestByteLimit:
    def test_one_byte_over_the_default_is_413_before_the_content_is_looked_at(self) -> None:
        with pytest.raises(PhotoTooLarge) as refused:
            prepare_photo(b"\x00" * (15 * 1024 * 1024 + 1))

        assert refused.value.status == 413
        assert refused.value.extensions == {"limit": 15 * 1024 * 1024}

    def test_a_photo_of_exactly_the_limit_is_accepted(self) -> None:
        upload = encode(halves(40, 30), "JPEG")

        assert prepare_photo(upload, PhotoLimits(max_bytes=len(upload))).width == 40
        with pytest.raises(PhotoTooLarge):
            prepare_photo(upload, PhotoLimits(max_bytes=len(upload) - 1))


class TestPhotoCount:
    @pytest.mark.parametrize("existing", range(10))
    def test_the_first_ten_are_allowed(self, existing: int) -> None:
        check_photo_count(existing)

    def test_the_eleventh_is_409(self) -> None:
        with pytest.raises(PhotoLimitReached) as refused:
            check_photo_count(10)

        assert refused.value.status == 409
        assert refused.value.extensions == {"limit": 10}

    def test_the_limit_is_configurable(self) -> None:
        limits = PhotoLimits(max_photos_per_session=2)

        check_photo_count(1, limits)
        with pytest.raises(PhotoLimitReached):
            check_photo_count(2, limits)


class TestDownscaling:
    def test_a_wide_photo_is_downscaled_to_the_output_side_keeping_its_aspect(self) -> None:
        photo = prepare_photo(encode(halves(4_000, 1_000), "PNG"))

        assert (photo.width, photo.height) == decode(photo.data).size == (2_048, 512)

    def test_a_tall_jpeg_is_downscaled_through_a_reduced_decode(self) -> None:
        photo = prepare_photo(encode(halves(4_000, 6_000), "JPEG"), PhotoLimits(output_max_side=500))

        image = decode(photo.data)
        assert image.size == (photo.width, photo.height)
        assert photo.height == 500
        assert photo.width in (333, 334)
        assert close(image.getpixel((40, 250)), RED)
        assert close(image.getpixel((photo.width - 40, 250)), BLUE)

    def test_a_small_photo_is_never_upscaled(self) -> None:
        photo = prepare_photo(encode(halves(300, 200), "JPEG"))

        assert (photo.width, photo.height) == (300, 200)


class TestColourModes:
    def test_a_cmyk_jpeg_becomes_an_rgb_jpeg(self) -> None:
        upload = encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")
        assert decode(upload).mode == "CMYK"

        photo = prepare_photo(upload)

        image = decode(photo.data)
        assert (photo.content_type, image.mode) == ("image/jpeg", "RGB")
        assert close(image.getpixel((20, 15)), (255, 0, 0))

    def test_a_png_with_alpha_stays_a_png_with_alpha(self) -> None:
        image = Image.new("RGBA", (40, 30), (*RED, 255))
        image.paste((0, 0, 0, 0), (20, 0, 40, 30))

        photo = prepare_photo(encode(image, "PNG"))

        output = decode(photo.data)
        assert (photo.content_type, output.mode) == ("image/png", "RGBA")
        assert output.getpixel((5, 5)) == (*RED, 255)
        assert output.getpixel((35, 5))[3] == 0  # type: ignore[index]

    def test_a_palette_png_with_a_transparent_colour_keeps_its_transparency(self) -> None:
        image = Image.new("P", (40, 30), 1)
        image.putpalette([0, 0, 0, *RED])
        image.paste(0, (20, 0, 40, 30))

        output = decode(prepare_photo(encode(image, "PNG", transparency=0)).data)

        assert output.mode == "RGBA"
        assert output.getpixel((5, 5)) == (*RED, 255)
        assert output.getpixel((35, 5))[3] == 0  # type: ignore[index]

    def test_an_opaque_palette_png_becomes_rgb(self) -> None:
        output = decode(prepare_photo(encode(halves(40, 30).convert("P", palette=Image.Palette.ADAPTIVE), "PNG")).data)

        assert output.mode == "RGB"
        assert output.getpixel((5, 5)) == RED

    def test_a_16_bit_grey_png_is_scaled_not_clipped(self) -> None:
        image = Image.new("I;16", (40, 30), 30_000)
        upload = encode(image, "PNG")
        assert decode(upload).mode == "I;16"

        output = decode(prepare_photo(upload).data)

        assert output.mode == "L"
        assert output.getpixel((5, 5)) == 30_000 // 256

    def test_a_grey_jpeg_stays_grey(self) -> None:
        output = decode(prepare_photo(encode(Image.new("L", (40, 30), 90), "JPEG")).data)

        assert output.mode == "L"
        assert close((output.getpixel((5, 5)),), (90,), tolerance=2)


class TestMultiPictureFiles:
    def test_an_animated_png_keeps_its_first_frame_only(self) -> None:
        first = Image.new("RGBA", (40, 30), (*RED, 255))
        second = Image.new("RGBA", (40, 30), (*BLUE, 255))
        upload = encode(first, "PNG", save_all=True, append_images=[second])
        assert Image.open(io.BytesIO(upload)).n_frames == 2

        photo = prepare_photo(upload)

        output = decode(photo.data)
        assert getattr(output, "n_frames", 1) == 1
        assert b"acTL" not in photo.data
        assert output.getpixel((5, 5)) == (*RED, 255)

    def test_a_multi_picture_jpeg_keeps_its_primary_picture_as_a_plain_jpeg(self) -> None:
        upload = encode(halves(64, 48), "MPO", save_all=True, append_images=[Image.new("RGB", (32, 24), BLUE)])
        assert Image.open(io.BytesIO(upload)).format == "MPO"

        photo = prepare_photo(upload)

        output = decode(photo.data)
        assert (output.format, output.size) == ("JPEG", (64, 48))
        assert b"MPF" not in photo.data


class TestPreparedPhoto:
    def test_the_digest_is_of_the_output_and_the_output_is_deterministic(self) -> None:
        upload = encode(halves(64, 48), "JPEG", exif=gps_exif())

        first, second = prepare_photo(upload), prepare_photo(upload)

        assert first.sha256 == hashlib.sha256(first.data).hexdigest()
        assert first == second

    def test_it_is_immutable(self) -> None:
        photo = prepare_photo(encode(halves(8, 8), "PNG"))

        with pytest.raises(dataclasses.FrozenInstanceError):
            photo.width = 1  # type: ignore[misc]


class TestPhotoLimits:
    def test_the_defaults(self) -> None:
        assert dataclasses.asdict(DEFAULT_LIMITS) == {
            "max_bytes": 15 * 1024 * 1024,
            "max_pixels": 24_000_000,
            "max_png_pixels": 12_000_000,
            "max_side": 8_192,
            "max_photos_per_session": 10,
            "output_max_side": 2_048,
            "jpeg_quality": 85,
        }

    @pytest.mark.parametrize(
        "values",
        [{"max_bytes": 0}, {"max_pixels": -1}, {"output_max_side": 0}, {"jpeg_quality": 0}, {"jpeg_quality": 96}],
    )
    def test_nonsense_is_refused(self, values: dict[str, int]) -> None:
        with pytest.raises(ValueError, match="must be"):
            PhotoLimits(**values)


PHOTO_ERRORS = [
    (PhotoTypeUnsupported, 415, "photo-type-unsupported"),
    (PhotoTooLarge, 413, "photo-too-large"),
    (PhotoDimensionsTooLarge, 422, "photo-dimensions-too-large"),
    (PhotoUnreadable, 422, "photo-unreadable"),
    (PhotoLimitReached, 409, "photo-limit-reached"),
]


class TestPhotoErrorsAreProblemDocuments:
    @pytest.mark.parametrize(("error", "status", "slug"), PHOTO_ERRORS)
    def test_renders_as_problem_json_with_its_status(self, error: type[CarPulseError], status: int, slug: str) -> None:
        response = render_error(None, error("what went wrong", limit=10))

        assert response.status_code == status
        assert response.media_type == PROBLEM_MEDIA_TYPE
        body = json.loads(bytes(response.body))
        assert body == {
            "type": f"/problems/{slug}",
            "title": error.title,
            "status": status,
            "detail": "what went wrong",
            "limit": 10,
        }

    @pytest.mark.parametrize(("error", "status", "slug"), PHOTO_ERRORS)
    async def test_is_served_in_the_problem_catalogue(
        self, client: httpx.AsyncClient, error: type[CarPulseError], status: int, slug: str
    ) -> None:
        assert problem_catalogue()[slug] is error

        response = await client.get(f"/problems/{slug}")

        assert response.status_code == 200
        body = response.json()
        assert (body["type"], body["status"], body["title"]) == (f"/problems/{slug}", status, error.title)
        assert body["description"]
        assert slug in [problem["slug"] for problem in (await client.get("/problems")).json()]


class TestStrictEvenAfterWeasyPrint:
    def test_a_truncated_jpeg_is_refused_when_pillow_was_told_to_accept_truncation(self) -> None:
        from PIL import ImageFile

        # WeasyPrint flips this process-wide switch when imported (in-process renders).
        buffer = io.BytesIO()
        Image.new("RGB", (400, 300), (120, 30, 200)).save(buffer, "JPEG")
        truncated = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            with pytest.raises(PhotoUnreadable):
                prepare_photo(truncated)
            assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as it was found
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous
