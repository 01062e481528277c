"""Validating what the admin API is sent, before anything is stored: model entries, the
policy attributes of agents, workspaces and models (labels, classifications, residency,
region, tier, family), region pins, model prices, and pools with their members. Every
message names the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlsplit

from dome.errors import ConfigError, InvalidRequestError
from dome.providers.registry import PROVIDER_KINDS
from dome.routing import parse_match_when
from dome.store import UNSET, Unset, given_or

T = TypeVar("T")

AUTH_METHODS = frozenset({"api-key", "none"})
CREDENTIAL_TYPES = frozenset({"shared", "none"})
_KEY_REQUIRED = frozenset({"openai", "anthropic"})
_KEYLESS = frozenset({"mock"})

# The Cedar schema's classification labels, lowest first (dome/policy/schema.cedarschema).
# Checked here rather than imported from dome.policy, so the admin API does not load Cedar.
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
MAX_LABELS = 32
_LABEL = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_PLACE = re.compile(r"[a-z0-9-]{0,64}")  # residency, region: "" means unknown/unrestricted
_TIER = re.compile(r"[a-z0-9-]{1,64}")
_FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
_REGION_PIN = re.compile(r"[a-z0-9-]{1,32}")
_MAX_PRICE = Decimal(1_000_000)  # USD per million tokens; beyond it is a typo
_MAX_PRICE_CHARS = 32
STRATEGIES = ("priority", "weighted", "cost", "cascade")
_INT32 = 2**31 - 1  # what an INTEGER column holds on PostgreSQL
MAX_WEIGHT = 1000

AGENT_ATTRIBUTES = frozenset({"labels", "classification_default", "classification_floor"})
WORKSPACE_ATTRIBUTES = frozenset(
    {"residency", "max_classification", "classification_default", "classification_floor", "region"}
)
TENANT_ATTRIBUTES = frozenset({"region"})
MODEL_ATTRIBUTES = frozenset({"region", "tier", "family", "input_price", "output_price"})
POOL_FIELDS = frozenset({"match_when", "strategy", "order"})
MEMBER_FIELDS = frozenset({"priority", "weight"})
_ALLOWED_FIELDS = MODEL_ATTRIBUTES | {
    "name",
    "provider",
    "model",
    "base_url",
    "auth_method",
    "credential_type",
    "credential",
}


@dataclass(frozen=True, slots=True)
class ModelInput:
    name: str
    provider: str
    model: str
    base_url: str | None
    auth_method: str
    credential_type: str
    credential: str | None
    region: str = ""
    tier: str = "standard"
    family: str | None = None  # None: derived from `model`
    input_price: str | None = None  # Decimal text, USD per million tokens
    output_price: str | None = None

    def __repr__(self) -> str:
        return f"ModelInput(name={self.name!r}, provider={self.provider!r})"


@dataclass(frozen=True, slots=True)
class AgentAttributes:
    """What a request sets; `UNSET` leaves the stored value (or the default) alone."""

    labels: tuple[str, ...] | Unset = UNSET
    classification_default: str | Unset | None = UNSET
    classification_floor: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class WorkspaceAttributes:
    residency: str | Unset = UNSET
    max_classification: str | Unset = UNSET
    classification_default: str | Unset | None = UNSET
    classification_floor: str | Unset | None = UNSET
    region: str | Unset | None = UNSET  # the region pin


@dataclass(frozen=True, slots=True)
class TenantAttributes:
    region: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class ModelAttributes:
    region: str | Unset = UNSET
    tier: str | Unset = UNSET
    family: str | Unset | None = UNSET
    input_price: str | Unset | None = UNSET
    output_price: str | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class PoolChanges:
    match_when: dict[str, list[str]] | Unset = UNSET  # normalized (`MatchWhen.to_json`)
    strategy: str | Unset = UNSET
    order: int | Unset = UNSET


@dataclass(frozen=True, slots=True)
class PoolMemberInput:
    priority: int = 0
    weight: int = 1


def read_model_input(body: dict[str, Any]) -> ModelInput:
    _reject_unknown(body, _ALLOWED_FIELDS)
    name = _string(body, "name", required=True)
    provider = _string(body, "provider", required=True)
    if provider not in PROVIDER_KINDS:
        known = ", ".join(sorted(PROVIDER_KINDS))
        raise InvalidRequestError(f"provider: unknown kind {provider!r} (known: {known})")
    credential = _string(body, "credential", required=False)
    default_auth = "api-key" if provider in _KEY_REQUIRED or credential else "none"
    auth_method = _string(body, "auth_method", required=False) or default_auth
    credential_type = _string(body, "credential_type", required=False) or (
        "shared" if credential else "none"
    )
    base_url = _string(body, "base_url", required=False)
    attributes = read_model_attributes(body, also=_ALLOWED_FIELDS)
    checked = ModelInput(
        name=name or "",
        provider=provider or "",
        model=_string(body, "model", required=False) or name or "",
        base_url=base_url,
        auth_method=auth_method,
        credential_type=credential_type,
        credential=credential,
        region=given_or(attributes.region, ""),
        tier=given_or(attributes.tier, "standard"),
        family=given_or(attributes.family, None),
        input_price=given_or(attributes.input_price, None),
        output_price=given_or(attributes.output_price, None),
    )
    _check_rules(checked)
    return checked


def read_agent_attributes(body: dict[str, Any], *, also: Iterable[str] = ()) -> AgentAttributes:
    """The agent attributes in `body`; fields named in `also` are the caller's to read."""
    _reject_unknown(body, AGENT_ATTRIBUTES | set(also))
    return AgentAttributes(
        labels=_optional_field(body, "labels", _labels),
        classification_default=_optional_field(body, "classification_default", _level_or_null),
        classification_floor=_optional_field(body, "classification_floor", _level_or_null),
    )


def read_workspace_attributes(
    body: dict[str, Any], *, also: Iterable[str] = ()
) -> WorkspaceAttributes:
    _reject_unknown(body, WORKSPACE_ATTRIBUTES | set(also))
    return WorkspaceAttributes(
        residency=_optional_field(body, "residency", _place),
        max_classification=_optional_field(body, "max_classification", _level),
        classification_default=_optional_field(body, "classification_default", _level_or_null),
        classification_floor=_optional_field(body, "classification_floor", _level_or_null),
        region=_optional_field(body, "region", _region_pin_or_null),
    )


def read_tenant_attributes(body: dict[str, Any], *, also: Iterable[str] = ()) -> TenantAttributes:
    _reject_unknown(body, TENANT_ATTRIBUTES | set(also))
    return TenantAttributes(region=_optional_field(body, "region", _region_pin_or_null))


def read_model_attributes(body: dict[str, Any], *, also: Iterable[str] = ()) -> ModelAttributes:
    _reject_unknown(body, MODEL_ATTRIBUTES | set(also))
    return ModelAttributes(
        region=_optional_field(body, "region", _place),
        tier=_optional_field(body, "tier", _tier),
        family=_optional_field(body, "family", _family_or_null),
        input_price=_optional_field(body, "input_price", _price_or_null),
        output_price=_optional_field(body, "output_price", _price_or_null),
    )


def read_pool_changes(body: dict[str, Any], *, also: Iterable[str] = ()) -> PoolChanges:
    """A pool's settable fields in `body`; `match_when` is validated and normalized."""
    _reject_unknown(body, POOL_FIELDS | set(also))
    return PoolChanges(
        match_when=_optional_field(body, "match_when", _match_when),
        strategy=_optional_field(body, "strategy", _strategy),
        order=_optional_field(body, "order", _int32),
    )


def read_pool_member(body: dict[str, Any]) -> PoolMemberInput:
    """A member's priority (any integer, lower first) and weight (1 to 1000)."""
    _reject_unknown(body, MEMBER_FIELDS)
    return PoolMemberInput(
        priority=given_or(_optional_field(body, "priority", _int32), 0),
        weight=given_or(_optional_field(body, "weight", _weight), 1),
    )


def _reject_unknown(body: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidRequestError(f"{unknown[0]}: unknown field", param=unknown[0])


def _optional_field(
    body: dict[str, Any], field: str, read: Callable[[str, object], T]
) -> T | Unset:
    return read(field, body[field]) if field in body else UNSET


def _labels(field: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequestError(f"{field}: expected a list of strings", param=field)
    labels = tuple(dict.fromkeys(value))  # a set to Cedar: repeats collapse, order stays
    if len(labels) > MAX_LABELS:
        raise InvalidRequestError(f"{field}: at most {MAX_LABELS} labels", param=field)
    for label in labels:
        if not _LABEL.fullmatch(label):
            msg = f"{field}: {label!r} is not a label (letters, digits and _ . : -, at most 64)"
            raise InvalidRequestError(msg, param=field)
    return labels


def _level(field: str, value: object) -> str:
    if value not in CLASSIFICATIONS:
        msg = f"{field}: must be one of {', '.join(CLASSIFICATIONS)}"
        raise InvalidRequestError(msg, param=field)
    return str(value)


def _level_or_null(field: str, value: object) -> str | None:
    return None if value is None else _level(field, value)


def _place(field: str, value: object) -> str:
    return _matching(field, value, _PLACE, "lowercase letters, digits and -, at most 64")


def _tier(field: str, value: object) -> str:
    return _matching(field, value, _TIER, "1 to 64 lowercase letters, digits and -")


def _family_or_null(field: str, value: object) -> str | None:
    if value is None:
        return None
    rule = "letters, digits and . _ : @ / - (at most 128), starting alphanumeric"
    return _matching(field, value, _FAMILY, rule)


def _region_pin_or_null(field: str, value: object) -> str | None:
    if value is None:
        return None
    return _matching(field, value, _REGION_PIN, "1 to 32 lowercase letters, digits and -")


def _price_or_null(field: str, value: object) -> str | None:
    """A price as Decimal text: JSON strings (or integers), never floats, which round."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        msg = f'{field}: expected a decimal string such as "3.00" (USD per million tokens)'
        raise InvalidRequestError(msg, param=field)
    text = str(value).strip()
    try:
        price = Decimal(text) if len(text) <= _MAX_PRICE_CHARS else None
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or not 0 <= price <= _MAX_PRICE:
        msg = f"{field}: {text!r} is not a price (a decimal number from 0 to {_MAX_PRICE})"
        raise InvalidRequestError(msg, param=field)
    return str(abs(price))  # abs: "-0" is 0


def _match_when(field: str, value: object) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        msg = f"{field}: expected a JSON object of attribute -> list of values"
        raise InvalidRequestError(msg, param=field)
    try:
        return parse_match_when(value).to_json()
    except ConfigError as exc:
        detail = exc.message.removeprefix("match-when: ")
        raise InvalidRequestError(f"{field}: {detail}", param=field) from exc


def _strategy(field: str, value: object) -> str:
    if not isinstance(value, str) or value not in STRATEGIES:
        raise InvalidRequestError(f"{field}: must be one of {', '.join(STRATEGIES)}", param=field)
    return value


def _int32(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -_INT32 <= value <= _INT32:
        raise InvalidRequestError(f"{field}: expected an integer", param=field)
    return value


def _weight(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WEIGHT:
        raise InvalidRequestError(
            f"{field}: expected an integer from 1 to {MAX_WEIGHT}", param=field
        )
    return value


def _matching(field: str, value: object, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidRequestError(f"{field}: use {rule}", param=field)
    return value


def _check_rules(model: ModelInput) -> None:
    _check_credential_rules(model)
    if model.provider == "openai-compatible" and not model.base_url:
        raise InvalidRequestError("base_url: required for an openai-compatible provider")
    if model.base_url is not None:
        parts = urlsplit(model.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequestError("base_url: must be an http or https URL")


def _check_credential_rules(model: ModelInput) -> None:
    if model.auth_method not in AUTH_METHODS:
        raise InvalidRequestError(f"auth_method: must be one of {sorted(AUTH_METHODS)}")
    if model.credential_type not in CREDENTIAL_TYPES:
        raise InvalidRequestError(f"credential_type: must be one of {sorted(CREDENTIAL_TYPES)}")
    if model.provider in _KEY_REQUIRED and model.auth_method != "api-key":
        raise InvalidRequestError(f"auth_method: the {model.provider} provider needs api-key")
    if model.auth_method == "api-key" and not model.credential:
        raise InvalidRequestError("credential: required with auth_method api-key")
    if model.auth_method == "none" and model.credential:
        raise InvalidRequestError("credential: not used with auth_method none")
    if model.provider in _KEYLESS and model.credential:
        raise InvalidRequestError("credential: the mock provider takes no credential")
    if model.credential and model.credential_type != "shared":
        raise InvalidRequestError("credential_type: a credential must be 'shared'")


def _string(body: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise InvalidRequestError(f"{field}: field required", param=field)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{field}: expected a non-empty string", param=field)
    return value.strip() if field != "credential" else value
