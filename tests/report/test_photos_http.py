"""Vehicle photos through HTTP: checked by content, stripped of EXIF, at most 10, shown in the report."""

from __future__ import annotations

import io
import resource
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image, ImageDraw

from carpulse.report.photo import prepare_photo
from tests.connect.flow import connect_account
from tests.report.flow import REPORTS_ON, local, paid_order, reports_of, settle_reports

GPS_IFD = 0x8825


def jpeg(
    width: int = 64, height: int = 48, *, gps: bool = False, colour: tuple[int, int, int] = (10, 120, 200)
) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    exif[0x010F] = "Tesla owner's phone"  # Make
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (60.0, 10.0, 5.5), 3: "E", 4: (24.0, 56.0, 2.1)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png(width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def files(*items: tuple[str, bytes, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", item) for item in items]


async def session(client: httpx.AsyncClient) -> str:
    return str((await connect_account(client, "solo"))["session_id"])


class TestUpload:
    async def test_the_same_picture_twice_is_stored_once(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"
        picture = jpeg()

        await client.post(url, files=files(("a.jpg", picture, "image/jpeg"), ("b.jpg", picture, "image/jpeg")))
        again = await client.post(url, files=files(("c.jpg", picture, "image/jpeg")))

        assert again.status_code == 201
        assert len(again.json()["photos"]) == 1

    async def test_gps_exif_is_gone_after_upload(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        original = jpeg(gps=True)
        assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)

        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/photos", files=files(("car.jpg", original, "image/jpeg"))
        )

        assert response.status_code == 201, response.text
        (photo,) = response.json()["photos"]
        stored = await client.get(local(photo["url"]))
        assert stored.status_code == 200
        image = Image.open(io.BytesIO(stored.content))
        assert image.format == "JPEG"
        assert not image.getexif()
        assert b"Exif" not in stored.content
        assert photo["content_type"] == "image/jpeg"

    async def test_a_png_named_jpeg_is_judged_by_its_bytes(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)

        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/photos", files=files(("car.jpg", png(), "image/jpeg"))
        )

        assert response.status_code == 201, response.text
        assert response.json()["photos"][0]["content_type"] == "image/png"

    @pytest.mark.parametrize(
        ("name", "data", "declared"),
        [
            ("car.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
            ("car.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/jpeg"),
            ("car.gif", b"GIF89a" + b"\x00" * 32, "image/gif"),
        ],
    )
    async def test_not_a_jpeg_or_png_is_415(
        self, client: httpx.AsyncClient, name: str, data: bytes, declared: str
    ) -> None:
        session_id = await session(client)

        response = await client.post(f"/api/v1/tesla/session/{session_id}/photos", files=files((name, data, declared)))

        assert response.status_code == 415
        assert response.json()["type"].endswith("/photo-type-unsupported")
        assert (await client.get(f"/api/v1/tesla/session/{session_id}/photos")).json()["photos"] == []

    async def test_fifty_megapixels_is_refused(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        huge = png(10_000, 5_000, mode="1")  # a 1-bit PNG: tiny file, 50 million pixels

        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/photos", files=files(("big.png", huge, "image/png"))
        )

        assert response.status_code == 422
        assert response.json()["type"].endswith("/photo-dimensions-too-large")

    async def test_the_eleventh_photo_is_409_and_nothing_of_the_batch_is_kept(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"
        first = [(f"p{i}.jpg", jpeg(colour=(i * 25, 250 - i * 20, 40)), "image/jpeg") for i in range(10)]
        assert len((await client.post(url, files=files(*first))).json()["photos"]) == 10

        response = await client.post(url, files=files(("p10.jpg", jpeg(colour=(0, 0, 255)), "image/jpeg")))

        assert response.status_code == 409
        assert response.json()["type"].endswith("/photo-limit-reached")
        assert len((await client.get(url)).json()["photos"]) == 10

    async def test_a_bad_file_in_a_batch_keeps_none_of_it(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"

        response = await client.post(
            url, files=files(("a.jpg", jpeg(), "image/jpeg"), ("b.svg", b"<svg/>", "image/svg+xml"))
        )

        assert response.status_code == 415
        assert (await client.get(url)).json()["photos"] == []

    async def test_delete_and_other_sessions(self, client: httpx.AsyncClient) -> None:
        mine, theirs = await session(client), await session(client)
        url = f"/api/v1/tesla/session/{mine}/photos"
        photo = (await client.post(url, files=files(("a.jpg", jpeg(), "image/jpeg")))).json()["photos"][0]

        assert (await client.delete(f"/api/v1/tesla/session/{theirs}/photos/{photo['id']}")).status_code == 404
        assert (await client.get("/api/v1/tesla/session/no-such-session-id-here/photos")).status_code == 404
        assert (await client.delete(f"{url}/{photo['id']}")).status_code == 204
        assert (await client.get(url)).json()["photos"] == []
        assert (await client.get(local(photo["url"]))).status_code == 404

    async def test_no_file_is_422(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)

        response = await client.post(f"/api/v1/tesla/session/{session_id}/photos", data={"x": "1"})

        assert response.status_code == 422


class TestPhotosInTheReport:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return REPORTS_ON

    async def test_uploaded_photos_appear_at_the_end_of_the_report(
        self, committed_client: httpx.AsyncClient, committed_app: FastAPI
    ) -> None:
        intent = await paid_order(committed_client, committed_app, package="basic")
        vin = (await reports_of(committed_client, intent["order_id"]))["vehicles"][0]["vin"]
        uploaded = await committed_client.post(
            f"/api/v1/tesla/orders/{intent['order_id']}/photos", files=files(("car.jpg", jpeg(), "image/jpeg"))
        )
        assert uploaded.status_code == 201, uploaded.text

        queued = await committed_client.post(
            "/api/v1/tesla/vehicle-report/pdf/async", json={"order_id": intent["order_id"], "vin": vin, "locale": "fr"}
        )
        await settle_reports(committed_app)
        status = (await committed_client.get(f"/api/v1/tesla/reports/status/{queued.json()['task_id']}")).json()
        html = (await committed_client.get(local(status["html_url"]))).text

        assert "data:image/jpeg;base64," in html
        assert html.index("data:image/jpeg;base64,") > html.index(vin)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def striped_png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 450):
        draw.line([(x, 0), (width - x, height)], fill=(200, 40, 40), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class TestUploadCost:
    async def test_the_6300_pixel_square_png_is_refused(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        square = png(6300, 6300, mode="1")  # 39.7 megapixels that a PNG must decode whole

        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/photos", files=files(("square.png", square, "image/png"))
        )

        assert response.status_code == 422
        body = response.json()
        assert body["type"].endswith("/photo-dimensions-too-large")
        assert body["max_pixels"] == 12_000_000

    async def test_a_24_megapixel_jpeg_is_taken_and_stored_at_report_size(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)

        response = await client.post(
            f"/api/v1/tesla/session/{session_id}/photos",
            files=files(("camera.jpg", jpeg(6000, 4000), "image/jpeg")),
        )

        assert response.status_code == 201, response.text
        photo = response.json()["photos"][0]
        assert (photo["width"], photo["height"]) == (2048, 1365)

    async def test_the_decode_runs_outside_the_api_process(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"
        assert (await client.post(url, files=files(("warm.png", png(), "image/png")))).status_code == 201
        upload = striped_png(4000, 3000)
        started = cpu_seconds()
        prepare_photo(upload)
        in_process = cpu_seconds() - started

        started = cpu_seconds()
        response = await client.post(url, files=files(*((f"{n}.png", upload, "image/png") for n in range(3))))
        api_cpu = cpu_seconds() - started

        assert response.status_code == 201, response.text
        assert in_process > 0.1
        assert api_cpu < in_process  # three decodes cost the API less than one decoded here


class TestUploadRateLimit:
    async def test_the_eleventh_upload_in_a_minute_is_429(self, client: httpx.AsyncClient) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"

        statuses = [(await client.post(url, files=files(("a.png", png(), "image/png")))).status_code for _ in range(11)]
        refused = await client.post(url, files=files(("a.png", png(), "image/png")))

        assert statuses == [201] * 10 + [429]
        assert refused.headers["content-type"] == "application/problem+json"
        assert "photo_upload" in refused.json()["detail"]

    async def test_one_session_from_many_addresses_shares_its_budget(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        session_id = await session(client)
        url = f"/api/v1/tesla/session/{session_id}/photos"
        statuses = []
        for number in range(11):
            transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{number + 1}", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
                response = await elsewhere.post(url, files=files(("a.png", png(), "image/png")))
                statuses.append(response.status_code)

        assert statuses == [201] * 10 + [429]
