from __future__ import annotations

from carpulse.errors import CarPulseError, Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed


class ReportNotFound(NotFound):
    """No such report, it belongs to someone else, or its files are past their retention period."""

    slug = "report-not-found"
    title = "Report not found"


class PackageNotPaid(Forbidden):
    """The order did not pay for this report package (a Pro report needs a Pro order)."""

    slug = "package-not-paid"
    title = "Package not paid for"


class PhotoNotFound(NotFound):
    """No such photo here: the id is wrong, belongs to someone else, or the photo was deleted."""

    slug = "photo-not-found"
    title = "Photo not found"


class PhotoTypeUnsupported(CarPulseError):
    """The file's content is not a JPEG or PNG image; its name and declared type are not looked at."""

    status = 415
    slug = "photo-type-unsupported"
    title = "Photo type not supported"


class PhotoTooLarge(PayloadTooLarge):
    """The photo file has more bytes than a photo may have."""

    slug = "photo-too-large"
    title = "Photo file too large"


class PhotoDimensionsTooLarge(ValidationFailed):
    """The photo has more pixels, or a longer side, than a photo may have; it was refused before decoding."""

    slug = "photo-dimensions-too-large"
    title = "Photo dimensions too large"


class PhotoUnreadable(ValidationFailed):
    """The file starts like a JPEG or PNG but cannot be decoded: it is truncated or corrupt."""

    slug = "photo-unreadable"
    title = "Photo cannot be read"


class PhotoLimitReached(Conflict):
    """The session already holds as many photos as it may; delete one to add another."""

    slug = "photo-limit-reached"
    title = "Photo limit reached"


class ReportRequestConflict(Conflict):
    """An identical report request was made at the same moment and is no longer open; asking again works."""

    slug = "report-request-conflict"
    title = "Report request conflict"


class VehicleNotRead(Conflict):
    """The car gave some data but not its headline facts (asleep or offline): a report would be empty."""

    slug = "vehicle-not-read"
    title = "Vehicle could not be read"

    def __init__(self, detail: str, *, missing: list[str]) -> None:
        super().__init__(detail, missing=missing)
        self.missing = missing


class ReportNotWaiting(Conflict):
    """Only a report waiting for its car can be delivered with what was readable."""

    slug = "report-not-waiting"
    title = "Report is not waiting for its vehicle"


class ReportNotRerunnable(Conflict):
    """Only a failed report of an order that is paid for (not refunded) can be rendered again."""

    slug = "report-not-rerunnable"
    title = "Report cannot be run again"
