"""The attributes commands share: classification levels, labels, the short place and tier
names, region pins and prices, checked here so a bad argument is a usage error sent
nowhere.

The admin API checks the same rules (docs/admin-api.md); these only fail earlier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import click

from dome.cli.client import JsonObject

# Lowest first, as the Cedar schema orders them.
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
# In `update` commands this value removes a classification default or floor.
CLEAR = "none"
MAX_LABELS = 32
_LABEL = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PLACE = re.compile(r"[a-z0-9-]{0,64}")
_TIER = re.compile(r"[a-z0-9-]{1,64}")
_REGION_PIN = re.compile(r"[a-z0-9-]{1,32}")
_MAX_PRICE = Decimal(1_000_000)
REGION_PIN_HELP = "Pin its calls to models of this region, e.g. eu; none removes the pin."

LEVEL = click.Choice(CLASSIFICATIONS)
LEVEL_OR_NONE = click.Choice((*CLASSIFICATIONS, CLEAR))


def check_labels(
    _ctx: click.Context, param: click.Parameter, value: Sequence[str]
) -> tuple[str, ...]:
    """Click callback for a repeated `--label`."""
    labels = tuple(dict.fromkeys(value))
    if len(labels) > MAX_LABELS:
        raise click.BadParameter(f"at most {MAX_LABELS} labels", param=param)
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise click.BadParameter(
                f"{label!r}: use letters, digits and _ . : - (at most 64)", param=param
            )
    return labels


def check_place(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for `--residency` and `--region` ("" means unrestricted/unknown)."""
    if value is not None and not _PLACE.fullmatch(value):
        raise click.BadParameter("use lowercase letters, digits and - (at most 64)", param=param)
    return value


def check_tier(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _TIER.fullmatch(value):
        raise click.BadParameter("use 1 to 64 lowercase letters, digits and -", param=param)
    return value


def check_region_pin(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for a region pin; `none` (kept as is) removes the pin."""
    if value is not None and not _REGION_PIN.fullmatch(value):
        raise click.BadParameter("use 1 to 32 lowercase letters, digits and -", param=param)
    return value


def check_price(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for a price in USD per million tokens, e.g. 3.00; `none` (kept as
    is) removes it where the command allows."""
    if value is None or value == CLEAR:
        return value
    try:
        price = Decimal(value.strip())
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or not 0 <= price <= _MAX_PRICE:
        msg = f"{value!r} is not a price: a decimal number of USD from 0 to {_MAX_PRICE}"
        raise click.BadParameter(msg, param=param)
    return value.strip()


def put_given(body: JsonObject, key: str, value: object) -> None:
    """Set `body[key]` when the option was given."""
    if value is not None:
        body[key] = value


def put_clearable(body: JsonObject, key: str, value: str | None) -> None:
    """`put_given` for an option where `none` becomes JSON null (remove it):
    classifications, region pins, prices."""
    if value is not None:
        body[key] = None if value == CLEAR else value


def require_changes(body: JsonObject, options: str) -> None:
    if not body:
        raise click.UsageError(f"nothing to change: give {options}")
