"""The price arithmetic, as properties: for any basket, voucher and VAT rate."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from carpulse.kit.money import format_minor, percent_of, split_inclusive
from carpulse.models import VoucherKind
from carpulse.pricing.catalog import PACKAGES, PackageCode
from carpulse.pricing.service import VoucherTerms, price

rates = st.decimals(min_value=Decimal(0), max_value=Decimal(50), places=1)
packages = st.sampled_from(list(PackageCode))
vouchers = st.one_of(
    st.none(),
    st.builds(
        VoucherTerms,
        code=st.just("TEST"),
        kind=st.just(VoucherKind.percent),
        percent_off=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
        amount_off_cents=st.none(),
    ),
    st.builds(
        VoucherTerms,
        code=st.just("TEST"),
        kind=st.just(VoucherKind.fixed),
        percent_off=st.none(),
        amount_off_cents=st.integers(min_value=1, max_value=1_000_000),
    ),
)


class TestPriceProperties:
    @given(package=packages, count=st.integers(min_value=1, max_value=25), rate=rates, voucher=vouchers)
    def test_net_plus_vat_is_gross_and_nothing_is_negative(
        self, package: PackageCode, count: int, rate: Decimal, voucher: VoucherTerms | None
    ) -> None:
        priced = price(package, count, rate, "fi", voucher)
        assert priced.net_cents + priced.vat_cents == priced.gross_cents
        assert priced.gross_cents >= 0
        assert priced.net_cents >= 0
        assert priced.vat_cents >= 0
        assert 0 <= priced.discount_cents <= priced.subtotal_cents
        assert priced.gross_cents == priced.subtotal_cents - priced.discount_cents
        assert sum(line.gross_cents for line in priced.lines) == priced.gross_cents

    @given(gross=st.integers(min_value=0, max_value=10**9), rate=rates)
    def test_vat_split_is_exact_and_rounded_half_up(self, gross: int, rate: Decimal) -> None:
        split = split_inclusive(gross, rate)
        assert split.net_cents + split.vat_cents == gross
        exact = Decimal(gross) * 100 / (100 + rate)
        assert abs(Decimal(split.net_cents) - exact) <= Decimal("0.5")

    @given(cents=st.integers(min_value=-(10**9), max_value=10**9))
    def test_minor_units_format_exactly(self, cents: int) -> None:
        assert Decimal(format_minor(cents)) * 100 == cents


class TestKnownPrices:
    def test_the_seed_prices_include_finnish_vat(self) -> None:
        # reference/payments.md §1: 1900 → 1514 + 386, 2900 → 2311 + 589, 14900 → 11873 + 3027
        expected = {PackageCode.basic: (1514, 386), PackageCode.pro: (2311, 589), PackageCode.bulk: (11873, 3027)}
        for package, (net, vat) in expected.items():
            priced = price(package, PACKAGES[package].min_vehicles, Decimal("25.5"))
            assert (priced.net_cents, priced.vat_cents, priced.gross_cents) == (net, vat, PACKAGES[package].price_cents)

    def test_half_up_not_bankers_rounding(self) -> None:
        assert percent_of(1900, Decimal("25.5")) == 485  # 484.5 rounds up

    def test_volume_tiers_apply_to_per_vehicle_packages(self) -> None:
        three = price(PackageCode.pro, 3, Decimal("25.5"))
        assert three.subtotal_cents == 3 * 2900
        assert three.volume_discount_cents == 870  # 10 %
        assert price(PackageCode.bulk, 10, Decimal("25.5")).volume_discount_cents == 0

    def test_a_fixed_voucher_never_makes_the_price_negative(self) -> None:
        free = price(
            PackageCode.basic, 1, Decimal("25.5"), voucher=VoucherTerms("BIG", VoucherKind.fixed, None, 50_000)
        )
        assert free.gross_cents == 0
        assert free.voucher_discount_cents == 1900

    def test_lines_are_localized(self) -> None:
        assert price(PackageCode.basic, 1, Decimal("25.5"), "fi").lines[0].description == "Perusraportti"
