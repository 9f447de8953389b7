"""Every table, imported here so Alembic and the metadata see them all."""

from carpulse.models.account import Account, AccountRole
from carpulse.models.api_key import ApiKey
from carpulse.models.base import Base
from carpulse.models.data_client import DataClient
from carpulse.models.driver_identity import DriverIdentity
from carpulse.models.driver_refresh_token import DriverRefreshToken
from carpulse.models.email_confirmation import EmailConfirmation
from carpulse.models.idempotent_response import IdempotentResponse
from carpulse.models.inbound_event import InboundEvent
from carpulse.models.invoice import Invoice, InvoiceSequence
from carpulse.models.observation import DataSharing, Observation, ObservationKind
from carpulse.models.order import Order, OrderStatus, OrderTransition
from carpulse.models.outbound_mail import MailStatus, OutboundMail
from carpulse.models.plan import Plan, PlanTerms
from carpulse.models.quote import Quote
from carpulse.models.receipt import CreditNote, CreditNoteSequence, Receipt, ReceiptSequence
from carpulse.models.report import Report, ReportPhoto, ReportStatus, VehicleSnapshotRecord
from carpulse.models.usage import UsageRecord
from carpulse.models.vehicle_connection import VehicleConnection
from carpulse.models.vehicle_model import VehicleModel
from carpulse.models.voucher import RedemptionState, Voucher, VoucherKind, VoucherRedemption

__all__ = [
    "Account",
    "AccountRole",
    "ApiKey",
    "Base",
    "CreditNote",
    "CreditNoteSequence",
    "DataClient",
    "DataSharing",
    "DriverIdentity",
    "DriverRefreshToken",
    "EmailConfirmation",
    "IdempotentResponse",
    "InboundEvent",
    "Invoice",
    "InvoiceSequence",
    "MailStatus",
    "Observation",
    "ObservationKind",
    "Order",
    "OrderStatus",
    "OrderTransition",
    "OutboundMail",
    "Plan",
    "PlanTerms",
    "Quote",
    "Receipt",
    "ReceiptSequence",
    "RedemptionState",
    "Report",
    "ReportPhoto",
    "ReportStatus",
    "UsageRecord",
    "VehicleConnection",
    "VehicleModel",
    "VehicleSnapshotRecord",
    "Voucher",
    "VoucherKind",
    "VoucherRedemption",
]
