"""Payment gateways by name; adding a provider is one entry here and a package beside this file.

A customer chooses a gateway (`stripe`) or a method one of them carries (`apple_pay`): `choose` finds
which gateway serves the choice and what the checkout is restricted to, so the payment service never
names a method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from carpulse.payment.errors import ProviderUnavailable
from carpulse.payment.gateway import PaymentGateway


@dataclass(frozen=True)
class PaymentChoice:
    gateway: PaymentGateway
    method: str | None  # the one method the checkout offers; None: every method the gateway offers


class PaymentGateways:
    def __init__(self, gateways: Mapping[str, PaymentGateway]) -> None:
        self._gateways = dict(gateways)

    def get(self, name: str) -> PaymentGateway:
        gateway = self._gateways.get(name)
        if gateway is None or not gateway.is_configured():
            raise ProviderUnavailable(f"Payments with {name} are not available here.", field="provider")
        return gateway

    def choose(self, choice: str) -> PaymentChoice:
        """The gateway and restriction for what the customer picked: a gateway's name or a method it carries."""
        if choice in self._gateways:
            return PaymentChoice(self.get(choice), None)
        for gateway in self._gateways.values():
            if gateway.is_configured() and choice in gateway.payment_methods():
                return PaymentChoice(gateway, choice)
        raise ProviderUnavailable(f"Payments with {choice} are not available here.", field="provider")

    def for_payment_id(self, payment_id: str) -> PaymentGateway | None:
        return next((g for g in self._gateways.values() if g.can_handle_payment_id(payment_id)), None)

    def names(self) -> list[str]:
        return [name for name, gateway in self._gateways.items() if gateway.is_configured()]

    async def aclose(self) -> None:
        for gateway in self._gateways.values():
            await gateway.aclose()
