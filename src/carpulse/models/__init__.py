"""Every table, imported here so Alembic and the metadata see them all."""

from carpulse.models.account import Account, AccountRole
from carpulse.models.api_key import ApiKey
from carpulse.models.base import Base
from carpulse.models.car import Car, CarDriver, CarRole
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
from carpulse.models.place import Place, PlaceKind
from carpulse.models.plan import Plan, PlanTerms
from carpulse.models.quote import Quote
from carpulse.models.receipt import CreditNote, CreditNoteSequence, Receipt, ReceiptSequence
from carpulse.models.reconcile_run import ReconcileRun
from carpulse.models.report import Report, ReportPhoto, ReportStatus, VehicleSnapshotRecord
from carpulse.models.trip import DistanceSource, Trip, TripEnd, TripState
from carpulse.models.trip_change import TripChange, TripChangeKind
from carpulse.models.trip_event import TripEvent, TripEventKind
from carpulse.models.usage import UsageRecord
from carpulse.models.vehicle_connection import VehicleConnection
from carpulse.models.vehicle_model import VehicleModel
from carpulse.models.voucher import RedemptionState, Voucher, VoucherKind, VoucherRedemption
from carpulse.models.webhook_token import WebhookToken

__all__ = [
    "Account",
    "AccountRole",
    "ApiKey",
    "Base",
    "Car",
    "CarDriver",
    "CarRole",
    "CreditNote",
    "CreditNoteSequence",
    "DataClient",
    "DataSharing",
    "DistanceSource",
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
    "Place",
    "PlaceKind",
    "Plan",
    "PlanTerms",
    "Quote",
    "Receipt",
    "ReceiptSequence",
    "ReconcileRun",
    "RedemptionState",
    "Report",
    "ReportPhoto",
    "ReportStatus",
    "Trip",
    "TripChange",
    "TripChangeKind",
    "TripEnd",
    "TripEvent",
    "TripEventKind",
    "TripState",
    "UsageRecord",
    "VehicleConnection",
    "VehicleModel",
    "VehicleSnapshotRecord",
    "Voucher",
    "VoucherKind",
    "VoucherRedemption",
    "WebhookToken",
]
