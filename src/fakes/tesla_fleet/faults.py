"""What tests switch and read: fault settings per account or global, billing counters, the call log."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any, Literal, NamedTuple

Category = Literal["data", "wakes", "commands"]
CATEGORIES: tuple[Category, ...] = ("data", "wakes", "commands")
# Reference §8.1: 500 data requests, 50 wakes or 1,000 commands per US$1.
PRICE_USD: dict[Category, Decimal] = {"data": Decimal("0.002"), "wakes": Decimal("0.02"), "commands": Decimal("0.001")}


class Call(NamedTuple):
    """One request the fake answered; `path` is relative to the fake's root, without the query."""

    account: str | None
    method: str
    path: str
    status: int


class Billing:
    """Billable Fleet calls per (account, category): every answer below 500 to an authenticated call."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, Category]] = Counter()

    def record(self, account: str, category: Category) -> None:
        self._counts[account, category] += 1

    def count(self, account: str | None = None, category: str | None = None) -> int:
        return sum(
            number
            for (name, kind), number in self._counts.items()
            if (account is None or name == account) and (category is None or kind == category)
        )

    def snapshot(self) -> dict[str, dict[str, int]]:
        """`{account: {category: count}}` for every account billed so far, all categories present."""
        accounts = sorted({name for name, _ in self._counts})
        return {name: {kind: self._counts[name, kind] for kind in CATEGORIES} for name in accounts}

    def cost_usd(self, account: str | None = None) -> Decimal:
        return sum((PRICE_USD[kind] * self.count(account, kind) for kind in CATEGORIES), Decimal(0))

    def clear(self) -> None:
        self._counts.clear()


@dataclass
class FaultSettings:
    """Switches for one account or for all; None leaves the other level (or normal behaviour) in charge."""

    rate_limit_retry_after: int | None = None
    error_rate: float | None = None
    latency_seconds: float | None = None
    wrap_dx: bool | None = None
    # Invoice content ids whose download always answers 500, however often it is retried.
    failing_invoices: frozenset[str] | None = None

    def merged_over(self, base: FaultSettings) -> FaultSettings:
        """These settings where set, `base` elsewhere."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return FaultSettings(
            **{name: value if value is not None else getattr(base, name) for name, value in values.items()}
        )

    def as_json(self) -> dict[str, Any]:
        values = {name: value for name, value in asdict(self).items() if value is not None}
        if "failing_invoices" in values:
            values["failing_invoices"] = sorted(values["failing_invoices"])
        return values


class Faults:
    """Global settings plus per-account overrides."""

    def __init__(self) -> None:
        self.all = FaultSettings()
        self.accounts: dict[str, FaultSettings] = {}

    def settings(self, account: str | None) -> FaultSettings:
        """The settings in force for one account (global ones for calls without an account)."""
        if account is None or account not in self.accounts:
            return self.all
        return self.accounts[account].merged_over(self.all)

    def update(self, account: str | None, **changes: Any) -> None:
        target = self.all if account is None else self.accounts.setdefault(account, FaultSettings())
        for name, value in changes.items():
            if value is not None:
                setattr(target, name, value)

    def clear(self) -> None:
        self.all = FaultSettings()
        self.accounts.clear()

    def as_json(self) -> dict[str, Any]:
        return {
            "global": self.all.as_json(),
            "accounts": {name: settings.as_json() for name, settings in sorted(self.accounts.items())},
        }
