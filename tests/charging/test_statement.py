"""The statement's arithmetic: windows, rounding to the minor unit, currencies never mixed, totals = rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carpulse.charging.statement import (
    charging_lines,
    currency_totals,
    invoice_file_name,
    lookback,
    minor_units,
    money,
    monthly_totals,
)
from carpulse.provider.base import ChargingFee, ChargingInvoiceRef, ChargingSession

VIN = "LRW3E7EB0RC000001"
OSLO = timezone(timedelta(hours=2))


def fee(fee_type: str, currency: str | None, due: str, net: str | None = None, usage: str = "0") -> ChargingFee:
    unit = "kwh" if fee_type == "CHARGING" else "min"
    return ChargingFee(
        fee_type=fee_type,
        pricing_type="PAYMENT",
        currency=currency,
        usage=Decimal(usage),
        unit=unit,
        total_due=Decimal(due),
        net_due=Decimal(net if net is not None else due),
    )


def session(
    session_id: str, start: datetime, *fees: ChargingFee, vin: str | None = VIN, invoices: int = 1
) -> ChargingSession:
    return ChargingSession(
        session_id=session_id,
        vin=vin,
        site="Oslo - Økern",
        country="NO",
        started_at=start,
        stopped_at=start + timedelta(minutes=30),
        energy_kwh=Decimal(0),
        fees=list(fees),
        invoices=[
            ChargingInvoiceRef(content_id=f"{session_id}-{n}", file_name=f"INV{session_id}{n}_NO-NB.pdf")
            for n in range(invoices)
        ],
    )


class TestLookback:
    @pytest.mark.parametrize(
        ("now", "months", "start"),
        [
            (datetime(2026, 3, 31, 12, tzinfo=UTC), 1, datetime(2026, 2, 28, 12, tzinfo=UTC)),
            (datetime(2028, 3, 31, 12, tzinfo=UTC), 1, datetime(2028, 2, 29, 12, tzinfo=UTC)),
            (datetime(2026, 1, 15, tzinfo=UTC), 24, datetime(2024, 1, 15, tzinfo=UTC)),
            (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
        ],
    )
    def test_calendar_months_back(self, now: datetime, months: int, start: datetime) -> None:
        window = lookback(months, now)

        assert (window.months, window.start, window.end) == (months, start, now)

    def test_the_end_is_in_utc(self) -> None:
        assert lookback(1, datetime(2026, 5, 1, 2, tzinfo=OSLO)).end == datetime(2026, 5, 1, 0, tzinfo=UTC)


class TestMoney:
    @pytest.mark.parametrize(
        ("amount", "currency", "rounded", "minor"),
        [
            ("21.325", "EUR", "21.33", 2133),
            ("21.324", "NOK", "21.32", 2132),
            ("1234.5", "JPY", "1235", 1235),
            ("1.2345", "KWD", "1.235", 1235),
            ("0", None, "0.00", 0),
        ],
    )
    def test_half_up_to_the_minor_unit(self, amount: str, currency: str | None, rounded: str, minor: int) -> None:
        assert str(money(Decimal(amount), currency)) == rounded
        assert minor_units(Decimal(amount), currency) == minor


class TestLines:
    def test_fees_by_type_credit_and_total(self) -> None:
        start = datetime(2026, 5, 3, 14, 2, 11, tzinfo=OSLO)
        lines = charging_lines(
            [session("1", start, fee("CHARGING", "NOK", "201.50", "151.13", "41"), fee("PARKING", "NOK", "25"))], VIN
        )

        [line] = lines
        assert line.fees_by_type == {"CHARGING": Decimal("201.50"), "PARKING": Decimal("25.00")}
        assert line.credit == Decimal("50.37")
        assert line.total == Decimal("176.13")
        assert line.total_minor == 17613
        assert line.energy_kwh == Decimal(41)
        assert line.started_at == datetime(2026, 5, 3, 12, 2, 11, tzinfo=UTC)
        assert line.started_at_site.utcoffset() == timedelta(hours=2)
        assert line.invoices[0].file_name == "2026-05-03_INV10_NO-NB.pdf"

    def test_fees_in_two_currencies_make_two_lines_never_one_sum(self) -> None:
        start = datetime(2026, 5, 3, 14, tzinfo=OSLO)
        lines = charging_lines(
            [
                session(
                    "7",
                    start,
                    fee("CHARGING", "EUR", "10", usage="20"),
                    fee("PARKING", "NOK", "50"),
                    fee("X", None, "1"),
                )
            ],
            VIN,
        )

        assert [(line.currency, line.total, line.energy_kwh) for line in lines] == [
            ("EUR", Decimal("11.00"), Decimal(20)),
            ("NOK", Decimal("50.00"), Decimal(0)),
        ]
        assert {line.session_id for line in lines} == {"7"}
        totals = currency_totals(lines)
        assert [(t.currency, t.total, t.sessions, t.invoices) for t in totals] == [
            ("EUR", Decimal("11.00"), 1, 1),
            ("NOK", Decimal("50.00"), 1, 1),
        ]

    def test_another_vehicles_sessions_are_dropped(self) -> None:
        start = datetime(2026, 5, 3, tzinfo=UTC)
        lines = charging_lines(
            [
                session("1", start, fee("CHARGING", "EUR", "1")),
                session("2", start, fee("CHARGING", "EUR", "2"), vin="5YJ3E7EB0KF000009"),
            ],
            VIN,
        )

        assert [line.session_id for line in lines] == ["1"]

    def test_newest_first(self) -> None:
        base = datetime(2026, 5, 3, tzinfo=UTC)
        sessions = [session(str(n), base + timedelta(days=n), fee("CHARGING", "EUR", "1")) for n in (2, 0, 1)]

        assert [line.session_id for line in charging_lines(sessions, VIN)] == ["2", "1", "0"]

    def test_a_session_without_a_start_is_left_out(self) -> None:
        broken = session("1", datetime(2026, 5, 3, tzinfo=UTC), fee("CHARGING", "EUR", "1")).model_copy(
            update={"started_at": None}
        )

        assert charging_lines([broken], VIN) == []

    def test_file_name_from_a_hostile_tesla_name(self) -> None:
        invoice = ChargingInvoiceRef(content_id="abc", file_name="../../x/..\\evil.PDF")

        assert invoice_file_name(datetime(2026, 1, 2, tzinfo=UTC), invoice) == "2026-01-02_x-evil.pdf"


amounts = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False)


class TestTotals:
    @given(
        st.lists(
            st.tuples(st.sampled_from(["EUR", "NOK", "SEK", "JPY"]), amounts, amounts, st.integers(0, 400)),
            max_size=40,
        )
    )
    def test_totals_are_exactly_the_sum_of_the_lines(self, drawn: list[tuple[str, Decimal, Decimal, int]]) -> None:
        base = datetime(2025, 1, 1, tzinfo=UTC)
        sessions = [
            session(
                str(n),
                base + timedelta(days=day),
                fee("CHARGING", currency, str(due), str(min(due, due - credit / 2)), "30"),
            )
            for n, (currency, due, credit, day) in enumerate(drawn)
        ]
        lines = charging_lines(sessions, VIN)
        window = lookback(24, datetime(2026, 3, 1, tzinfo=UTC))

        totals = {total.currency: total for total in currency_totals(lines)}
        months = monthly_totals(lines, window)

        for currency, total in totals.items():
            mine = [line for line in lines if line.currency == currency]
            assert total.total == sum((line.total for line in mine), Decimal(0))
            assert total.total_minor == sum(line.total_minor for line in mine)
            assert total.credit == sum((line.credit for line in mine), Decimal(0))
            assert total.fees_by_type["CHARGING"] - total.credit == total.total
            by_month = [t for month in months for t in month.totals if t.currency == currency]
            assert sum((t.total for t in by_month), Decimal(0)) == total.total
        assert [month.month for month in months][:2] == ["2024-03", "2024-04"]
        assert len(months) == 25
        assert sum(month.sessions for month in months) == len(drawn)
