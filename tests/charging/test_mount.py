"""`charging_router(info)`: a brand's charging mount, built from what the brand can do."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter
from fastapi.routing import APIRoute

from carpulse.charging.endpoints import charging_router
from carpulse.provider.base import BrandInfo, Capability
from carpulse.provider.tesla.brand import INFO as TESLA


def brand(*capabilities: Capability) -> BrandInfo:
    return dataclasses.replace(TESLA, name="acme", label="Acme", capabilities=frozenset(capabilities))


def paths(router: APIRouter) -> list[str]:
    return [route.path for route in router.routes if isinstance(route, APIRoute)]


class TestWhatIsMounted:
    def test_tesla_gets_all_five_endpoints_for_sessions_and_orders(self) -> None:
        mounted = paths(charging_router(TESLA))

        assert len(mounted) == 10
        assert all(path.startswith(("/tesla/session/{session_id}/", "/tesla/orders/{order_id}/")) for path in mounted)

    def test_a_brand_without_invoices_gets_the_history_only(self) -> None:
        mounted = paths(charging_router(brand(Capability.charging_history)))

        assert mounted == [
            "/acme/session/{session_id}/vehicles/{vin}/charging-invoices",
            "/acme/session/{session_id}/vehicles/{vin}/charging-history.csv",
            "/acme/orders/{order_id}/vehicles/{vin}/charging-invoices",
            "/acme/orders/{order_id}/vehicles/{vin}/charging-history.csv",
        ]

    def test_a_brand_without_a_charging_history_gets_nothing(self) -> None:
        assert paths(charging_router(brand(Capability.odometer, Capability.charging_invoices))) == []

    def test_the_documentation_names_the_brand_by_its_label(self) -> None:
        router = charging_router(brand(Capability.charging_history, Capability.charging_invoices))
        invoice = next(
            route for route in router.routes if isinstance(route, APIRoute) and route.path.endswith("{invoice_id}")
        )

        assert invoice.responses[200]["description"] == "the invoice as Acme issued it"
        parameter = next(param for param in invoice.dependant.path_params if param.name == "invoice_id")
        assert parameter.field_info.description == "Acme's invoice content id"
