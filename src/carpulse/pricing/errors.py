from __future__ import annotations

from carpulse.errors import Conflict, NotFound, ValidationFailed


class VoucherInvalid(ValidationFailed):
    """The voucher cannot be used for this purchase; `reason` says why."""

    slug = "voucher-invalid"
    title = "Voucher not valid"


class VoucherNoLongerValid(Conflict):
    """The quote's voucher cannot be used any more (switched off, expired, or this customer's uses are
    taken); ask for a new quote, with another code or none."""

    slug = "voucher-no-longer-valid"
    title = "Voucher no longer valid"


class VoucherUsedUp(Conflict):
    """The voucher's last use was taken by someone else a moment ago."""

    slug = "voucher-used-up"
    title = "Voucher used up"


class VoucherNotFound(NotFound):
    """No voucher with this id."""

    slug = "voucher-not-found"
    title = "Voucher not found"


class VoucherCodeTaken(Conflict):
    """Another voucher already has this code."""

    slug = "voucher-code-taken"
    title = "Voucher code already exists"


class NothingSelected(ValidationFailed):
    """The session has no vehicles and package selected yet (`POST /session/{id}/select` first)."""

    slug = "nothing-selected"
    title = "Nothing selected"


class QuoteNotFound(NotFound):
    """No such quote for this session."""

    slug = "quote-not-found"
    title = "Quote not found"


class QuoteExpired(Conflict):
    """The quote has expired; ask for a new one (prices and vouchers are checked again)."""

    slug = "quote-expired"
    title = "Quote expired"
