"""Region pinning: which members a pinned agent's call may reach.

Pure. A pin is a hard boundary: a pinned call is never served outside its region, not
even by failover, so filtering happens before any attempt and no fallback widens it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dome.errors import UpstreamUnavailableError


class RegionPinError(UpstreamUnavailableError):
    """No member inside the caller's region pin could take the call; `pin` names it."""

    def __init__(self, message: str, *, pin: str) -> None:
        super().__init__(message)
        self.pin = pin


def effective_pin(tenant_region: str | None, workspace_region: str | None) -> str | None:
    """The region a call is pinned to: the workspace's pin overrides the tenant's.

    An empty string counts as no pin at that level.
    """
    return workspace_region or tenant_region or None


def in_region(model_region: str, pin: str) -> bool:
    """Whether a model labelled `model_region` lies in pinned region `pin`.

    Equal labels match, and a pin covers its sub-regions at a "-" boundary: pin "eu"
    covers "eu-west-1" but not "europe" or "eus". Case-insensitive. A model without a
    region label is in no pinned region, so an unlabelled entry never serves a pin.
    """
    if not model_region or not pin:
        return False
    model, wanted = model_region.casefold(), pin.casefold()
    return model == wanted or model.startswith(wanted + "-")


def members_in_region(
    models: Iterable[str], regions: Mapping[str, str], pin: str | None
) -> tuple[str, ...]:
    """`models` (in order) that a call pinned to `pin` may reach; all of them when unpinned.

    `regions` maps a model entry to its region label; a missing label is no region.
    """
    if pin is None:
        return tuple(models)
    return tuple(model for model in models if in_region(regions.get(model, ""), pin))


def region_pin_error(pin: str, requested: str) -> RegionPinError:
    """The error for a pinned call with no reachable member, naming the pin."""
    return RegionPinError(
        f"no model for {requested} is available in region {pin}; this agent is pinned to "
        f"region {pin} and its calls are never served elsewhere",
        pin=pin,
    )
