"""Every table, imported here so Alembic and the metadata see them all."""

from carpulse.models.account import Account, AccountRole
from carpulse.models.base import Base
from carpulse.models.email_confirmation import EmailConfirmation
from carpulse.models.inbound_event import InboundEvent
from carpulse.models.observation import DataSharing, Observation, ObservationKind
from carpulse.models.order import Order, OrderStatus, OrderTransition
from carpulse.models.outbound_mail import MailStatus, OutboundMail
from carpulse.models.quote import Quote
from carpulse.models.receipt import CreditNote, CreditNoteSequence, Receipt, ReceiptSequence
from carpulse.models.report import Report, ReportPhoto, ReportStatus, VehicleSnapshotRecord
from carpulse.models.vehicle_connection import VehicleConnection
from carpulse.models.voucher import RedemptionState, Voucher, VoucherKind, VoucherRedemption

__all__ = [
    "Account",
    "AccountRole",
    "Base",
    "CreditNote",
    "CreditNoteSequence",
    "DataSharing",
    "EmailConfirmation",
    "InboundEvent",
    "MailStatus",
    "Observation",
    "ObservationKind",
    "Order",
    "OrderStatus",
    "OrderTransition",
    "OutboundMail",
    "Quote",
    "Receipt",
    "ReceiptSequence",
    "RedemptionState",
    "Report",
    "ReportPhoto",
    "ReportStatus",
    "VehicleConnection",
    "VehicleSnapshotRecord",
    "Voucher",
    "VoucherKind",
    "VoucherRedemption",
]
