"""Money across currencies and providers: dated exchange rates and egress prices, as data.

Each currency is its own dimension (``1 EUR + 1 USD`` is an error), so a price written in EUR
is converted only through an exchange-rate entry (schema ``mlsysim.exchange_rate/1``): a
stated rate in USD per unit of the currency, its period and date, and its source.
:func:`to_usd` picks the rate whose date is nearest the price's own ``as_of`` and says which.

Egress prices (schema ``mlsysim.egress_price/1``) are per provider and tier, per byte out.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.registry import Registry, register_kind
from mlsysim.core.types import Q, Spec

if TYPE_CHECKING:
    _UsdPerEur = Any
    _PricePerInformation = Any
    _Information = Any
else:
    _UsdPerEur = Q["usd_per_eur"]
    _PricePerInformation = Q["price_per_information"]
    _Information = Q["information"]

__all__ = [
    "Converted",
    "EgressPriceSpec",
    "EgressPrices",
    "ExchangeRateSpec",
    "ExchangeRates",
    "currency_of",
    "to_usd",
]

_DATA = Path(__file__).parent / "data"


class ExchangeRateSpec(Spec):
    """A reference exchange rate: USD per one unit of ``currency`` over a stated ``period``."""

    drifting = ("rate",)

    currency: str  # the currency converted from, e.g. "EUR"
    rate: _UsdPerEur
    period: str  # e.g. "2023 annual average of daily reference rates"


class EgressPriceSpec(Spec):
    """Price of data moved out of a cloud to the internet, per byte, for one tier."""

    drifting = ("price",)

    provider: str
    price: _PricePerInformation
    tier: str  # e.g. "first 10 TB per month"
    region: str | None = None
    free_allowance: _Information | None = None


ExchangeRates: Registry[ExchangeRateSpec] = register_kind(
    "exchange_rate", ExchangeRateSpec, "exchange rate", _DATA
)
EgressPrices: Registry[EgressPriceSpec] = register_kind(
    "egress_price", EgressPriceSpec, "egress price", _DATA
)


def currency_of(value: Any) -> str:
    """``"USD"`` or ``"EUR"``: the currency a money quantity is written in."""
    dims = value.dimensionality
    if "[currency_eur]" in dims:
        return "EUR"
    if "[currency]" in dims:
        return "USD"
    raise MlsysimError(f"{value} is not an amount of money", fix="write it with USD or EUR")


@dataclass(frozen=True)
class Converted:
    """A money figure in USD, and how it got there (``rate`` is None for a USD figure)."""

    value: Any
    original: Any
    rate: ExchangeRateSpec | None

    @property
    def note(self) -> str:
        if self.rate is None:
            return ""
        return (
            f"{self.original:~P} converted at {self.rate.rate:~P} ({self.rate.period}, "
            f"{self.rate.id})"
        )


def to_usd(value: Any, as_of: _dt.date | None = None) -> Converted:
    """``value`` (USD or EUR, any per-unit form) in USD, at the rate dated nearest ``as_of``."""
    cur = currency_of(value)
    if cur == "USD":
        return Converted(value, value, None)
    from mlsysim.core.formulas.economics import convert_currency

    rates = [r for r in ExchangeRates if r.currency == cur]
    if not rates:
        raise MlsysimError(
            f"no exchange rate for {cur} in the registry, so {value:~P} cannot be converted",
            why="a price in another currency is never read as USD",
            fix=f'add a [{cur}_USD_<year>] entry (schema "mlsysim.exchange_rate/1") with '
            "its rate, period, as_of and source",
        )
    when = as_of or _dt.date.today()
    best = min(rates, key=lambda r: abs(((r.as_of_of("rate") or when) - when).days))
    return Converted(convert_currency(value, best.rate), value, best)
