"""Payment gateways by name; adding a provider is one entry here and a package beside this file."""

from __future__ import annotations

from collections.abc import Mapping

from carpulse.payment.errors import ProviderUnavailable
from carpulse.payment.gateway import PaymentGateway


class PaymentGateways:
    def __init__(self, gateways: Mapping[str, PaymentGateway]) -> None:
        self._gateways = dict(gateways)

    def get(self, name: str) -> PaymentGateway:
        gateway = self._gateways.get(name)
        if gateway is None or not gateway.is_configured():
            raise ProviderUnavailable(f"Payments with {name} are not available here.", field="provider")
        return gateway

    def for_payment_id(self, payment_id: str) -> PaymentGateway | None:
        return next((g for g in self._gateways.values() if g.can_handle_payment_id(payment_id)), None)

    def names(self) -> list[str]:
        return [name for name, gateway in self._gateways.items() if gateway.is_configured()]

    async def aclose(self) -> None:
        for gateway in self._gateways.values():
            await gateway.aclose()
