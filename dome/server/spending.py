"""The agent plane's side of budgets: reserve before any provider sees the call, settle
once after it, with the usage of every attempt.

The reservation is an upper bound: the input estimate plus the most output the call
may produce (its max tokens, else `DEFAULT_OUTPUT_RESERVE`), priced at the dearest model
that may serve it. Under a USD ceiling every such model needs a price.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from dome.errors import BudgetExceededError, BudgetUnavailableError, DomeError
from dome.server.authorization import estimated_tokens, input_estimate, output_reserve
from dome.server.trace import CallTrace
from dome.spend.budgets import Hold
from dome.spend.figures import AttemptUsage, CallFigures, call_figures
from dome.spend.pricing import price_sheet, upper_bound_cost
from dome.store.snapshot import Agent, ModelEntry
from dome.wire.facts import RequestFacts

if TYPE_CHECKING:
    from dome.server.runtime import Runtime

logger = logging.getLogger("dome.spend")


async def reserve(
    runtime: Runtime,
    trace: CallTrace,
    agent: Agent,
    candidates: Sequence[ModelEntry],
    facts: RequestFacts,
    body_size: int,
) -> Hold | None:
    """Hold the call's upper bound against every ceiling in the agent's scope.

    Raises BudgetExceededError, UnpricedModelError or BudgetUnavailableError; the trace
    records the budget decision either way.
    """
    ceilings = runtime.snapshot.ceilings_for(agent.name)
    if not ceilings:
        return None
    tokens = estimated_tokens(facts, body_size)
    usd, unpriced = _upper_bound_usd(candidates, facts, body_size)
    try:
        hold = await runtime.budgets.reserve(trace.call_id, ceilings, tokens, usd, model=unpriced)
    except BudgetExceededError as error:
        trace.budget, trace.budget_ceiling = "denied", error.ceiling_id
        raise
    except BudgetUnavailableError:
        trace.budget = "unavailable"
        raise
    except DomeError:
        trace.budget = "denied"
        raise
    trace.budget = "admitted"
    return hold


def _upper_bound_usd(
    candidates: Sequence[ModelEntry], facts: RequestFacts, body_size: int
) -> tuple[Decimal | None, str | None]:
    """(the dearest candidate's price for the call, or None with the unpriced model)."""
    tokens_in, tokens_out = input_estimate(body_size), output_reserve(facts)
    dearest = Decimal(0)
    for entry in candidates:
        sheet = price_sheet(entry.provider, entry.model, entry.input_price, entry.output_price)
        if sheet is None:
            return None, entry.name
        dearest = max(dearest, upper_bound_cost(sheet, tokens_in, tokens_out))
    return dearest, None


def figures(trace: CallTrace) -> CallFigures:
    """The call's usage and cost from what each attempt reported."""
    attempts = trace.attempts
    last = len(attempts) - 1
    answered = trace.first_byte is not None and 0 < trace.status < 400
    reached_agent = trace.response_started or answered or trace.disconnected
    used = [
        AttemptUsage(
            entry=attempt.entry,
            usage=attempt.usage if attempt.usage is not None or i != last else trace.usage,
            # The attempt that answered (or was cut off by the agent) used the provider
            # even when it never said how much.
            charged_unreported=i == last
            and (
                reached_agent or attempt.attempt is None or attempt.attempt.outcome == "cancelled"
            ),
        )
        for i, attempt in enumerate(attempts)
    ]
    return call_figures(
        used, input_estimate=trace.input_estimate, delivered_events=trace.delivered_events
    )


async def settle(runtime: Runtime, hold: Hold, call: CallFigures) -> None:
    """Settle `hold` to the call's actual usage; a failure leaves the hold to expire
    (then it is charged in full), never to be forgotten."""
    try:
        await runtime.budgets.settle(hold, call.tokens, call.cost_usd)
    except BudgetUnavailableError:
        until = hold.hold_until.isoformat()
        logger.warning(
            "budget: settling call %s failed; its hold expires at %s", hold.call_id, until
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("budget: settling call %s failed", hold.call_id)
