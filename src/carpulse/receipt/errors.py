from __future__ import annotations

from carpulse.errors import NotFound


class ReceiptNotFound(NotFound):
    """No receipt with this id (receipts exist once an order is paid)."""

    slug = "receipt-not-found"
    title = "Receipt not found"


class CreditNoteNotFound(NotFound):
    """No credit note with this id (credit notes exist once an order is refunded)."""

    slug = "credit-note-not-found"
    title = "Credit note not found"


class InvoiceNotFound(NotFound):
    """No invoice with this id among the caller's."""

    slug = "invoice-not-found"
    title = "Invoice not found"
