"""Economics: CapEx amortisation, OpEx, cloud rental and egress, TCO and rent-vs-own.

Money is its own dimension (USD). Rates per time are written ``2.5 USD/h``; energy prices
``0.08 USD/kWh``; maintenance as a fraction of the purchase price per year (``0.05 / yr``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlsysim.core.exceptions import DimensionError, FormulaDomainError
from mlsysim.core.formulas._args import count, fraction, positive, si
from mlsysim.core.formulas._meta import formula
from mlsysim.core.units import describe_dimension, fmt_quantity, from_si, ureg

__all__ = [
    "TCO",
    "amortized_capex",
    "cloud_cost",
    "convert_currency",
    "egress_cost",
    "energy_cost",
    "opex",
    "rent_vs_own_crossover",
    "tco",
]

_BARROSO = ("barroso2018",)
_ZERO_RATE = from_si(0.0, "1/s")
_ZERO_PRICE_RATE = from_si(0.0, "USD/s")


def _money(value: Any, name: str, where: str) -> float:
    return positive(si(value, "currency", name), name, where, strict=False)


def _time(value: Any, name: str, where: str, *, strict: bool = False) -> float:
    return positive(si(value, "time", name), name, where, strict=strict)


@formula(
    symbol=r"C_{\mathrm{capex}} = P\,\frac{t}{T_{\mathrm{life}}}",
    substituted=r"{{price}} \cdot \frac{ {{duration}} }{ {{lifetime}} }",
    sources=_BARROSO,
    citation="Barroso, Hölzle & Ranganathan (2018), The Datacenter as a Computer, ch. 8",
    result="currency",
)
def amortized_capex(price: Any, lifetime: Any, duration: Any) -> Any:
    """Share of a purchase price charged to ``duration`` under straight-line depreciation."""
    where = "amortized_capex"
    P = _money(price, "price", where)
    T = _time(lifetime, "lifetime", where, strict=True)
    t = _time(duration, "duration", where)
    C = P * t / T
    return from_si(C, "USD")


@formula(
    symbol=r"C_{E} = E \cdot p_{E}",
    substituted=r"{{energy}} \cdot {{price}}",
    sources=_BARROSO,
    citation="Barroso, Hölzle & Ranganathan (2018), ch. 8",
    result="currency",
)
def energy_cost(energy: Any, price: Any) -> Any:
    """Cost of energy at a regional price (USD per kWh)."""
    where = "energy_cost"
    E = positive(si(energy, "energy", "energy"), "energy", where, strict=False)
    p = positive(si(price, "price_per_energy", "price"), "price", where, strict=False)
    C = E * p
    return from_si(C, "USD")


@formula(
    symbol=r"C_{\mathrm{opex}} = E\,p_{E} + P\,r_{m}\,t",
    substituted=(
        r"{{energy}} \cdot {{energy_price}} + {{price}} \cdot {{maintenance_rate}} "
        r"\cdot {{duration}}"
    ),
    sources=_BARROSO,
    citation="Barroso, Hölzle & Ranganathan (2018), ch. 8: operating expenses",
    result="currency",
)
def opex(energy: Any, energy_price: Any, price: Any, maintenance_rate: Any, duration: Any) -> Any:
    """Operating cost: energy at its price plus maintenance (a yearly fraction of the price)."""
    where = "opex"
    E = positive(si(energy, "energy", "energy"), "energy", where, strict=False)
    p_E = positive(
        si(energy_price, "price_per_energy", "energy_price"), "energy_price", where, strict=False
    )
    P = _money(price, "price", where)
    r_m = positive(
        si(maintenance_rate, "frequency", "maintenance_rate"),
        "maintenance_rate",
        where,
        strict=False,
    )
    t = _time(duration, "duration", where)
    C = E * p_E + P * r_m * t
    return from_si(C, "USD")


@formula(
    symbol=r"C = n\,r\,t",
    substituted=r"{{n}} \cdot {{rate}} \cdot {{duration}}",
    sources=("armbrust2010",),
    citation="Armbrust et al. (2010), A View of Cloud Computing: pay-as-you-go",
    result="currency",
)
def cloud_cost(rate: Any, duration: Any, n: Any = 1) -> Any:
    """Rental cost of n instances at an hourly rate for a duration."""
    where = "cloud_cost"
    r = positive(si(rate, "price_per_time", "rate"), "rate", where, strict=False)
    t = _time(duration, "duration", where)
    N = count(n, "n", where)
    C = N * r * t
    return from_si(C, "USD")


@formula(
    symbol=r"C_{\mathrm{egress}} = S \cdot p_{\mathrm{egress}}",
    substituted=r"{{size}} \cdot {{price}}",
    sources=("armbrust2010",),
    citation="Armbrust et al. (2010): data-transfer costs",
    result="currency",
)
def egress_cost(size: Any, price: Any) -> Any:
    """Cost of moving ``size`` bytes out of a cloud at a per-byte price (USD/GB)."""
    where = "egress_cost"
    S = positive(si(size, "information", "size"), "size", where, strict=False)
    p = positive(si(price, "price_per_information", "price"), "price", where, strict=False)
    C = S * p
    return from_si(C, "USD")


@formula(
    symbol=r"C_{\mathrm{USD}} = C_{\mathrm{EUR}} \cdot r_{\mathrm{USD/EUR}}",
    substituted=r"{{amount}} \cdot {{rate}}",
    sources=("ecb_reference_rates",),
    citation="conversion at a dated reference exchange rate (ECB euro reference rates)",
    result="currency",
)
def convert_currency(amount: Any, rate: Any) -> Any:
    """An amount (or a price) in EUR converted to USD at a dated rate in USD/EUR.

    Currencies are separate dimensions: a EUR figure is never read as USD. Pass the rate of
    the date the price is for (``ExchangeRates.EUR_USD_2023.rate``).
    """
    where = "convert_currency"
    if not isinstance(amount, ureg.Quantity):
        raise FormulaDomainError(
            f"amount must be a quantity in EUR, got {amount!r}",
            where=where,
            fix="write the amount with its currency, e.g. 0.089 EUR/kWh",
        )
    if not math.isfinite(float(amount.magnitude)):
        raise FormulaDomainError(
            f"amount must be a finite number, got {amount.magnitude!r}",
            where=where,
            fix="pass a finite amount in EUR (negative for a credit)",
        )
    r = positive(si(rate, "usd_per_eur", "rate"), "rate", where)
    usd = (amount * ureg.Quantity(r, "USD/EUR")).to_reduced_units()
    if "[currency_eur]" in usd.dimensionality:
        raise DimensionError.for_argument(
            "amount",
            fmt_quantity(amount),
            describe_dimension(amount),
            "an amount in EUR",
            where=where,
        )
    return usd


@dataclass(frozen=True)
class TCO:
    """Total cost of ownership over a lifetime, by part."""

    capex: Any
    energy: Any
    maintenance: Any
    total: Any
    hourly: Any

    @property
    def value(self) -> Any:
        """The headline result, the field ``total``."""
        return self.total

    def __str__(self) -> str:
        return f"{self.total:~P} ({self.hourly:~P})"


@formula(
    symbol=(
        r"\mathrm{TCO} = P + P_{\mathrm{avg}}\,\mathrm{PUE}\,T_{\mathrm{life}}\,p_{E} + "
        r"P\,r_{m}\,T_{\mathrm{life}}"
    ),
    substituted=(
        r"{{price}} + {{power}} \cdot {{pue}} \cdot {{lifetime}} \cdot {{energy_price}}"
        r" + {{price}} \cdot {{maintenance_rate}} \cdot {{lifetime}}"
    ),
    sources=_BARROSO,
    citation="Barroso, Hölzle & Ranganathan (2018), ch. 8: TCO",
    result="currency",
)
def tco(
    price: Any,
    power: Any,
    energy_price: Any,
    lifetime: Any,
    pue: Any = 1.0,
    maintenance_rate: Any = _ZERO_RATE,
) -> TCO:
    """Purchase price + facility energy at average power + maintenance, over the lifetime.

    ``.hourly`` is the total spread over the lifetime, comparable with a cloud rate.
    """
    where = "tco"
    P = _money(price, "price", where)
    W = positive(si(power, "power", "power"), "power", where, strict=False)
    p_E = positive(
        si(energy_price, "price_per_energy", "energy_price"), "energy_price", where, strict=False
    )
    T = _time(lifetime, "lifetime", where, strict=True)
    pue_ = fraction(pue, "pue", where, low=1.0, high=float("inf"))
    r_m = positive(
        si(maintenance_rate, "frequency", "maintenance_rate"),
        "maintenance_rate",
        where,
        strict=False,
    )
    C_E = W * pue_ * T * p_E
    C_m = P * r_m * T
    total = P + C_E + C_m
    hourly = from_si(total / T, "USD/s").to("USD/h")
    return TCO(
        from_si(P, "USD"), from_si(C_E, "USD"), from_si(C_m, "USD"), from_si(total, "USD"), hourly
    )


@formula(
    symbol=r"t^{*} = \frac{P}{r_{\mathrm{rent}} - r_{\mathrm{own}}}",
    substituted=r"\frac{ {{price}} }{ {{rental_rate}} - {{own_rate}} }",
    sources=("armbrust2010", "barroso2018"),
    citation="Armbrust et al. (2010): when renting beats owning",
    result="time",
)
def rent_vs_own_crossover(price: Any, rental_rate: Any, own_rate: Any = _ZERO_PRICE_RATE) -> Any:
    """Usage time after which buying (price + running cost per hour) beats renting."""
    where = "rent_vs_own_crossover"
    P = _money(price, "price", where)
    r_rent = positive(si(rental_rate, "price_per_time", "rental_rate"), "rental_rate", where)
    r_own = positive(si(own_rate, "price_per_time", "own_rate"), "own_rate", where, strict=False)
    if r_rent <= r_own:
        raise FormulaDomainError(
            "renting never costs more than owning: rental_rate ≤ own_rate",
            where=where,
            why="the hourly saving of owning must be positive to repay the price",
            fix="check the rates; owning's running cost per hour must be below the rental rate",
        )
    t_star = P / (r_rent - r_own)
    return from_si(t_star, "s")
