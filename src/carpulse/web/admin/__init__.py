"""The admin's pages under `/admin`: vouchers, orders and reports, Data API clients and plans, the reconciler.

Only for the admin role (`PageAdmin`); each page calls the same services as the admin API endpoints.
"""

from __future__ import annotations

from carpulse.web.admin import clients, orders, overview, plans, vouchers
from carpulse.web.pages import page_router

router = page_router()
for _module in (overview, vouchers, orders, clients, plans):
    router.include_router(_module.router)

__all__ = ["router"]
