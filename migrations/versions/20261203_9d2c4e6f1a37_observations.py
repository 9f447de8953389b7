"""observations: every reading in one table (backfilled from the snapshots' battery samples, which go)

Snapshots also learn the pack hints their identity now carries (Tesla's car_type as `variant`, the rim size of
`wheel_type` as `wheel_inches`), so a report rendered again from a kept snapshot picks the same baseline.

Revision ID: 9d2c4e6f1a37
Revises: 3e8d5b1c7a60
Create Date: 2026-12-03 09:00:00
"""

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "9d2c4e6f1a37"
down_revision: str | None = "3e8d5b1c7a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every snapshot so far was read from Tesla's Fleet API.
_SOURCE, _BRAND = "tesla_fleet", "tesla"
_WHEEL_SIZE = re.compile(r"(?<!\d)(1[5-9]|2[0-4])(?!\d)")
_MILES_TO_KM = Decimal("1.609344")
# A sample's numbers → the observation kind and unit they were read as.
_SAMPLE_KINDS = (
    ("battery_level_percent", "battery_level", "%"),
    ("usable_level_percent", "usable_battery_level", "%"),
    ("rated_range_km", "range", "km"),
    ("odometer_km", "odometer", "km"),
    ("software_version", "software_version", None),
)

_snapshot = sa.table(
    "vehicle_snapshot",
    sa.column("id", sa.Uuid()),
    sa.column("vin", sa.String()),
    sa.column("connection_id", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("battery_samples", sa.JSON()),
)
_observation = sa.table(
    "observation",
    sa.column("id", sa.Uuid()),
    sa.column("vin", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("value", sa.Text()),
    sa.column("unit", sa.String()),
    sa.column("captured_at", sa.DateTime(timezone=True)),
    sa.column("source", sa.String()),
    sa.column("brand", sa.String()),
    sa.column("connection_id", sa.String()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "observation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "odometer",
                "battery_level",
                "usable_battery_level",
                "range",
                "energy_added",
                "charging_state",
                "software_version",
                name="observationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "value",
            sa.Text(),
            nullable=False,
            comment="a decimal number for measured kinds, else the text as the provider gave it",
        ),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False, comment="the provider's API (tesla_fleet)"),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("connection_id", sa.String(length=128), nullable=True, comment="the connection that read it first"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
        sa.UniqueConstraint(
            "vin", "kind", "captured_at", "source", name=op.f("uq_observation_vin_kind_captured_at_source")
        ),
    )
    with op.batch_alter_table("observation") as batch:
        batch.create_index(batch.f("ix_observation_captured_at"), ["captured_at"], unique=False)

    bind = op.get_bind()
    now = datetime.now(UTC)
    rows: dict[tuple[str, str, datetime, str], dict[str, Any]] = {}
    snapshots = bind.execute(
        sa.select(
            _snapshot.c.id, _snapshot.c.vin, _snapshot.c.connection_id, _snapshot.c.data, _snapshot.c.battery_samples
        )
    ).all()
    for snapshot_id, vin, connection_id, data, samples in snapshots:
        source = ((data or {}).get("range") or {}).get("source") or _SOURCE
        for sample in samples or []:
            captured_at = datetime.fromisoformat(sample["captured_at"]).astimezone(UTC)
            for field, kind, unit in _SAMPLE_KINDS:
                value = sample.get(field)
                key = (vin, kind, captured_at, source)
                if value is None or key in rows:
                    continue
                rows[key] = {
                    "id": uuid.uuid4(),
                    "vin": vin,
                    "kind": kind,
                    "value": str(value),
                    "unit": unit,
                    "captured_at": captured_at,
                    "source": source,
                    "brand": _BRAND,
                    "connection_id": connection_id,
                    "recorded_at": now,
                }
        hinted = _with_pack_hints(data)
        if hinted is not None:
            bind.execute(sa.update(_snapshot).where(_snapshot.c.id == snapshot_id).values(data=hinted))
    if rows:
        bind.execute(sa.insert(_observation), list(rows.values()))
    with op.batch_alter_table("vehicle_snapshot") as batch:
        batch.drop_column("battery_samples")


def _with_pack_hints(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The snapshot's data with `identity.variant` and `identity.wheel_inches` from Tesla's vehicle_config; None
    when there is nothing to add."""
    identity = (data or {}).get("identity")
    config = (((data or {}).get("raw") or {}).get("vehicle_data") or {}).get("vehicle_config") or {}
    if not isinstance(identity, dict) or not isinstance(config, dict):
        return None
    car_type = config.get("car_type")
    variant = car_type if isinstance(car_type, str) and car_type and car_type != "<invalid>" else None
    match = _WHEEL_SIZE.search(identity.get("wheels") or "")
    hints = {"variant": variant, "wheel_inches": int(match.group(1)) if match else None}
    if all(identity.get(name) == value for name, value in hints.items()):
        return None
    return {**(data or {}), "identity": {**identity, **hints}}


def downgrade() -> None:
    with op.batch_alter_table("vehicle_snapshot") as batch:
        batch.add_column(
            sa.Column(
                "battery_samples",
                sa.JSON(),
                nullable=False,
                server_default=sa.text("'[]'"),
                comment="the few numbers later estimates read, without the whole data",
            )
        )
    bind = op.get_bind()
    for snapshot_id, data in bind.execute(sa.select(_snapshot.c.id, _snapshot.c.data)).all():
        samples = _samples_of(data or {})
        if samples:
            bind.execute(sa.update(_snapshot).where(_snapshot.c.id == snapshot_id).values(battery_samples=samples))
    with op.batch_alter_table("vehicle_snapshot") as batch:
        batch.alter_column("battery_samples", server_default=None, existing_type=sa.JSON(), existing_nullable=False)
    with op.batch_alter_table("observation") as batch:
        batch.drop_index(batch.f("ix_observation_captured_at"))
    op.drop_table("observation")


def _samples_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A snapshot's battery sample as the previous revision kept it, read again from its data."""
    level, rated = data.get("battery_level"), data.get("range")
    if not level or not rated:
        return []
    usable, odometer, version = data.get("usable_battery_level"), data.get("odometer"), data.get("software_version")
    range_km = _km(rated)
    if range_km is None or level.get("value") is None:
        return []
    captured_at = datetime.fromisoformat(rated.get("captured_at") or level.get("captured_at") or data["captured_at"])
    return [
        {
            "captured_at": captured_at.isoformat(),
            "battery_level_percent": str(Decimal(str(level["value"]))),
            "rated_range_km": str(range_km),
            "usable_level_percent": str(Decimal(str(usable["value"]))) if usable else None,
            "odometer_km": str(_km(odometer)) if odometer and _km(odometer) is not None else None,
            "software_version": (version or {}).get("value") or None,
        }
    ]


def _km(reading: dict[str, Any]) -> Decimal | None:
    unit = (reading.get("unit") or "").lower()
    value = Decimal(str(reading["value"]))
    if unit == "km":
        return value
    return value * _MILES_TO_KM if unit in ("mi", "mile", "miles") else None
