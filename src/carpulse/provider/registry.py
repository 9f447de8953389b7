"""The brands this app reads, keyed by name: `State.providers`.

Every brand package (`carpulse/provider/<brand>/`) exports `INFO` and `build(settings, http, clock) -> Brand`
from its `brand.py`; `builtin_brands` finds them, so a new brand is a new package and nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import httpx

from carpulse.config import Settings
from carpulse.errors import NotFound
from carpulse.kit.clock import Clock
from carpulse.provider.base import Brand, BrandInfo

BrandFactory = Callable[[Settings, httpx.AsyncClient, Clock], Brand]


@dataclass(frozen=True, eq=False)
class BrandPlugin:
    """A brand package as found: what it is, and how to build it for one app."""

    info: BrandInfo
    build: BrandFactory


class UnknownBrand(NotFound):
    """We do not connect vehicles of this brand."""

    slug = "unknown-brand"
    title = "Unknown vehicle brand"


@cache
def builtin_brands() -> tuple[BrandPlugin, ...]:
    """Every `carpulse.provider.<brand>.brand` (its `INFO` and `build`), in package order."""
    import carpulse.provider as package

    plugins: list[BrandPlugin] = []
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda found: found.name):
        if not module.ispkg:
            continue
        try:
            brand_module = importlib.import_module(f"{package.__name__}.{module.name}.brand")
        except ModuleNotFoundError as exc:
            if exc.name == f"{package.__name__}.{module.name}.brand":
                continue  # a helper package, not a brand
            raise
        plugins.append(BrandPlugin(brand_module.INFO, brand_module.build))
    return tuple(plugins)


class ProviderRegistry:
    """The built brands of one app, by name."""

    def __init__(self, brands: Sequence[Brand]) -> None:
        self._brands: dict[str, Brand] = {}
        for brand in brands:
            name = brand.info.name
            if name in self._brands:
                raise ValueError(f"two brands are named {name!r}")
            self._brands[name] = brand

    @classmethod
    def build(
        cls,
        settings: Settings,
        http: httpx.AsyncClient,
        clock: Clock,
        plugins: Sequence[BrandPlugin] | None = None,
    ) -> ProviderRegistry:
        chosen = builtin_brands() if plugins is None else plugins
        return cls([plugin.build(settings, http, clock) for plugin in chosen])

    def get(self, name: str) -> Brand:
        try:
            return self._brands[name]
        except KeyError:
            raise UnknownBrand(f"We do not connect {name!r} vehicles.") from None

    def __contains__(self, name: object) -> bool:
        return name in self._brands

    def __iter__(self) -> Iterator[Brand]:
        return iter(self._brands.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._brands)

    async def aclose(self) -> None:
        for brand in self._brands.values():
            await brand.aclose()
