"""What a call costs in USD: a model's price sheet, and exact Decimal cost of a usage.

Pure. The catalog is the data bundled with the installed `genai-prices` package, read
in-process: nothing here fetches. (genai-prices fetches only while its `UpdatePrices`
runs, which the broker never starts; reading the bundled data, not its current
snapshot, keeps prices a function of the installed version.) docs/usage.md, "Price".
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from types import MappingProxyType
from typing import Final, Literal

from genai_prices import types as catalog_types
from genai_prices.data import providers as catalog_providers
from genai_prices.data_snapshot import DataSnapshot

from dome.errors import ConfigError
from dome.wire.usage import ReportedUsage

PriceSource = Literal["override", "catalog", "free"]

# The broker's provider kind -> the genai-prices provider whose prices it bills at.
# A kind absent here (openai-compatible: any server, any model) is unpriced unless the
# operator sets both prices on the entry.
CATALOG_PROVIDERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "openai": "openai",
        "anthropic": "anthropic",
        "bedrock": "aws",  # Bedrock model ids, e.g. anthropic.claude-sonnet-4-5-...-v1:0
        "vertex": "google",  # Vertex ids; Claude on Vertex falls back to Anthropic's
    }
)
# Kinds that cost nothing: the mock provider answers by itself, no one bills it.
FREE_KINDS: Final = frozenset({"mock"})

_ZERO: Final = Decimal(0)
_PER_MILLION_EXPONENT: Final = -6  # prices are USD per million tokens
# Counts are exact integers and prices short decimals, so 100 digits never round; if
# they ever would, Inexact raises instead of silently losing money.
_EXACT: Final = Context(prec=100, traps=[Inexact, InvalidOperation, Overflow, DivisionByZero])
_CATALOG_CACHE_SIZE: Final = 4096
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()  # Unix days are UTC days of 86,400 s
# genai-prices' per-million-token rates, in the order of PriceTier's fields.
_CATALOG_KEYS: Final = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


@dataclass(frozen=True, slots=True)
class PriceTier:
    """Rates for a call whose input exceeds `above` tokens (long-context prices).

    As in genai-prices, crossing a threshold prices *all* of the call's tokens at the
    tier's rates, not only those above it.
    """

    above: int
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal


@dataclass(frozen=True, slots=True)
class PriceSheet:
    """A model's prices in USD per million tokens, and where they come from.

    `input` prices input tokens that are neither cache reads nor cache writes.
    `tiers` (ascending `above`) replace all four rates for long inputs.
    """

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    source: PriceSource
    tiers: tuple[PriceTier, ...] = ()


FREE: Final = PriceSheet(_ZERO, _ZERO, _ZERO, _ZERO, "free")


def price_sheet(
    provider_kind: str,
    provider_model: str,
    input_override: Decimal | str | None,
    output_override: Decimal | str | None,
    *,
    on: date | None = None,
) -> PriceSheet | None:
    """The prices of `provider_model` served by a provider of `provider_kind`, or None.

    In order: the operator's override when both prices are set (cache reads and writes
    then cost what the catalog charges for them relative to input, or the input price
    when the catalog does not know the model); a free kind (mock); the catalog's
    standard prices on day `on` (UTC, default today); else None: unpriced.
    Results are cached, so a call pays a dictionary lookup.

    Raises:
        ConfigError: an override is not a finite, non-negative decimal.
    """
    day = on.toordinal() if on is not None else _EPOCH_ORDINAL + int(time.time()) // 86_400
    # Checked before the cache: a signalling NaN cannot even be hashed.
    input_price = None if input_override is None else _price("input price", input_override)
    output_price = None if output_override is None else _price("output price", output_override)
    return _price_sheet(provider_kind, provider_model, input_price, output_price, day)


def cost(sheet: PriceSheet, usage: ReportedUsage) -> Decimal:
    """The exact USD cost of `usage` at `sheet`: never rounded, never a float.

    Input beyond the cache reads and writes is priced at `input`, cache reads at
    `cache_read`, cache writes at `cache_write`, output (reasoning included) at
    `output`. Unknown counts are 0; a tier applies by the call's whole input.
    """
    input_tokens = usage.input_tokens or 0
    cache_read = usage.cache_read_tokens or 0
    cache_write = usage.cache_write_tokens or 0
    uncached = max(input_tokens - cache_read - cache_write, 0)
    output = usage.output_tokens or 0
    input_rate, output_rate, read_rate, write_rate = _rates(sheet, input_tokens)
    fma = _EXACT.fma  # x * y + z, exact under _EXACT
    total = fma(
        uncached,
        input_rate,
        fma(
            cache_read,
            read_rate,
            fma(cache_write, write_rate, _EXACT.multiply(output, output_rate)),
        ),
    )
    return total.scaleb(_PER_MILLION_EXPONENT, _EXACT)


def upper_bound_cost(sheet: PriceSheet, input_tokens: int, max_output_tokens: int) -> Decimal:
    """The most a call of `input_tokens` and up to `max_output_tokens` can cost: every
    input token at the dearest input-side rate (a cache write usually), all output at
    the output rate, at the tier `input_tokens` falls in. For reservations."""
    input_tokens = max(input_tokens, 0)
    input_rate, output_rate, read_rate, write_rate = _rates(sheet, input_tokens)
    dearest_input = max(input_rate, read_rate, write_rate)
    total = _EXACT.fma(
        input_tokens, dearest_input, _EXACT.multiply(max(max_output_tokens, 0), output_rate)
    )
    return total.scaleb(_PER_MILLION_EXPONENT, _EXACT)


def _rates(sheet: PriceSheet, input_tokens: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(input, output, cache read, cache write) for a call with this much input."""
    rates = (sheet.input, sheet.output, sheet.cache_read, sheet.cache_write)
    for tier in sheet.tiers:
        if input_tokens > tier.above:
            rates = (tier.input, tier.output, tier.cache_read, tier.cache_write)
    return rates


@functools.lru_cache(maxsize=_CATALOG_CACHE_SIZE)
def _price_sheet(
    kind: str,
    model: str,
    input_price: Decimal | None,
    output_price: Decimal | None,
    day: int,
) -> PriceSheet | None:
    """`day` is a proleptic Gregorian ordinal: the cache key stays cheap to make."""
    provider = CATALOG_PROVIDERS.get(kind)
    catalog = _catalog_sheet(provider, model, day) if provider is not None else None
    if input_price is not None and output_price is not None:
        return _overridden(input_price, output_price, catalog)
    if kind in FREE_KINDS:
        return FREE
    return catalog


def _overridden(
    input_price: Decimal, output_price: Decimal, catalog: PriceSheet | None
) -> PriceSheet:
    """The operator's prices; cache rates keep the catalog's ratio to its input rate
    (exact for the catalog's ratios; a ratio that does not terminate keeps 28 digits)."""
    if catalog is None or catalog.input == 0:
        return PriceSheet(input_price, output_price, input_price, input_price, "override")
    return PriceSheet(
        input=input_price,
        output=output_price,
        cache_read=input_price * catalog.cache_read / catalog.input,
        cache_write=input_price * catalog.cache_write / catalog.input,
        source="override",
    )


def _price(what: str, value: Decimal | str) -> Decimal:
    try:
        price = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0:
        msg = f"{what} {value!r} is not a price in USD per million tokens"
        raise ConfigError(msg)
    return price


@functools.cache
def _catalog() -> DataSnapshot:
    return DataSnapshot(providers=catalog_providers, from_auto_update=False)


@functools.lru_cache(maxsize=_CATALOG_CACHE_SIZE)
def _catalog_sheet(provider: str, model: str, day: int) -> PriceSheet | None:
    """The catalog's standard prices for `model` on `day`, or None if it has none.

    Standard means no request context: priority, flex and batch prices are not applied,
    nor time-of-day discounts (which are discounts: a call is never under-charged).
    """
    try:
        _, info = _catalog().find_provider_model(model, None, provider, None)
    except LookupError:
        return None
    prices = _standard_prices(info, date.fromordinal(day))
    values = [_catalog_rate(prices, key) for key in _CATALOG_KEYS]
    if values[0] is None and values[1] is None:
        return None  # priced per image, second, character...: not by tokens
    base = _rates_above(values, -1)
    starts = sorted(
        {
            tier.start
            for value in values
            if isinstance(value, catalog_types.TieredPrices)
            for tier in value.tiers
        }
    )
    tiers = tuple(PriceTier(start, *_rates_above(values, start)) for start in starts)
    return PriceSheet(*base, source="catalog", tiers=tiers)


def _standard_prices(info: catalog_types.ModelInfo, day: date) -> catalog_types.ModelPrice:
    """The last price whose start date has come (genai-prices' rule), per UTC day."""
    if isinstance(info.prices, catalog_types.ModelPrice):
        return info.prices
    chosen = info.prices[0].prices
    for conditional in info.prices:
        constraint = conditional.constraint
        if constraint is None or (
            isinstance(constraint, catalog_types.StartDateConstraint)
            and constraint.start_date <= day
        ):
            chosen = conditional.prices
    return chosen


def _rates_above(
    values: list[Decimal | catalog_types.TieredPrices | None], above: int
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(input, output, cache read, cache write) for an input of more than `above`
    tokens. A missing cache rate is the input rate: genai-prices counts cache tokens it
    has no price for as plain input."""
    input_rate, output_rate, read_rate, write_rate = (_at(value, above) for value in values)
    input_rate = input_rate if input_rate is not None else _ZERO
    return (
        input_rate,
        output_rate if output_rate is not None else _ZERO,
        read_rate if read_rate is not None else input_rate,
        write_rate if write_rate is not None else input_rate,
    )


def _catalog_rate(
    prices: catalog_types.ModelPrice, key: str
) -> Decimal | catalog_types.TieredPrices | None:
    value: object = getattr(prices, key)
    return value if isinstance(value, Decimal | catalog_types.TieredPrices) else None


def _at(value: Decimal | catalog_types.TieredPrices | None, above: int) -> Decimal | None:
    if not isinstance(value, catalog_types.TieredPrices):
        return value
    price = value.base
    for tier in value.tiers:  # ascending; a tier applies once the input exceeds its start
        if tier.start <= above:
            price = tier.price
    return price
