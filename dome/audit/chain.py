"""The audit hash chain: each writer seals its records in order, each hash covering the
previous one, so a changed, deleted or inserted record breaks the chain.

The hashes are HMAC-SHA256 under a key the broker keeps encrypted in its store (like
the token-hash key): someone who can write the database but not read the master key
cannot compute a valid replacement chain.

A record's canonical form is its fields as sorted-key JSON, times in UTC ISO form with
microseconds, exactly as they read back from either database; `verify` recomputes it
from what is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC

import orjson

from dome.store.records import AuditRow, ChainedAuditRow, SealedAuditRow

GENESIS = "0" * 64  # the prev_hash of a chain's first record
_FIELDS = tuple(f.name for f in fields(AuditRow))


def canonical(row: AuditRow, chain: str, seq: int) -> bytes:
    """Null fields are left out: a column added later (null in older records) leaves the
    canonical form, and so the hash, of every older record as it was."""
    values = {name: value for name in _FIELDS if (value := getattr(row, name)) is not None}
    values["started_at"] = row.started_at.astimezone(UTC).isoformat(timespec="microseconds")
    values["chain"], values["seq"] = chain, seq
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)


def record_hash(key: bytes, prev_hash: str, row: AuditRow, chain: str, seq: int) -> str:
    digest = hmac.new(key, prev_hash.encode(), hashlib.sha256)
    digest.update(canonical(row, chain, seq))
    return digest.hexdigest()


@dataclass(slots=True)
class Chain:
    """One writer's chain: a fresh id per process, so replicas never contend."""

    key: bytes = field(repr=False)
    id: str = field(default_factory=lambda: "chain_" + secrets.token_hex(8))
    seq: int = 0
    head: str = GENESIS

    def seal(self, row: AuditRow) -> SealedAuditRow:
        self.seq += 1
        digest = record_hash(self.key, self.head, row, self.id, self.seq)
        sealed = SealedAuditRow(row, self.id, self.seq, self.head, digest)
        self.head = digest
        return sealed


@dataclass(frozen=True, slots=True)
class Finding:
    chain: str
    seq: int | None
    record_id: int | None
    problem: str  # changed | deleted | inserted | truncated | unanchored


@dataclass(slots=True)
class VerifyReport:
    records: int = 0
    chains: int = 0
    unchained: int = 0  # copied from before the chain existed
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


class ChainVerifier:
    """Checks records fed in (chain, seq) order, page by page, against each chain's
    recorded head (`heads`: chain -> (last_seq, last_hash)); `finish` gives the report.

    A chain whose stored records stop short of its head lost its newest records.
    """

    def __init__(self, key: bytes, heads: dict[str, tuple[int, str]]) -> None:
        self._key = key
        self._heads = heads
        self._seen: set[str] = set()
        self._current: str | None = None
        self._expected_seq = 1
        self._expected_prev = GENESIS
        self.report = VerifyReport()

    def check(self, stored: ChainedAuditRow) -> None:
        report = self.report
        report.records += 1
        if stored.chain is None or stored.seq is None:  # not chained: counted apart
            report.unchained += 1
            return
        if stored.chain != self._current:
            self._close()
            self._current = stored.chain
            self._seen.add(stored.chain)
            report.chains += 1
            self._expected_seq, self._expected_prev = 1, GENESIS
        recomputed = record_hash(
            self._key, stored.prev_hash or "", stored.row, stored.chain, stored.seq
        )
        if recomputed != stored.hash:
            report.findings.append(Finding(stored.chain, stored.seq, stored.id, "changed"))
        elif stored.seq > self._expected_seq:
            report.findings.append(Finding(stored.chain, self._expected_seq, None, "deleted"))
        elif stored.prev_hash != self._expected_prev:
            report.findings.append(Finding(stored.chain, stored.seq, stored.id, "inserted"))
        self._expected_seq, self._expected_prev = stored.seq + 1, stored.hash or ""

    def finish(self) -> VerifyReport:
        self._close()
        self._current = None
        for chain in sorted(self._heads.keys() - self._seen):
            self.report.findings.append(Finding(chain, self._heads[chain][0], None, "truncated"))
        return self.report

    def _close(self) -> None:
        chain = self._current
        if chain is None:
            return
        head = self._heads.get(chain)
        if head is None:  # written with every batch, so someone removed it
            self.report.findings.append(Finding(chain, None, None, "unanchored"))
        elif (self._expected_seq - 1, self._expected_prev) != head:
            self.report.findings.append(Finding(chain, head[0], None, "truncated"))


def verify(
    key: bytes, rows: Iterable[ChainedAuditRow], heads: dict[str, tuple[int, str]]
) -> VerifyReport:
    """Check `rows`, ordered by (chain, seq), in one go."""
    verifier = ChainVerifier(key, heads)
    for stored in rows:
        verifier.check(stored)
    return verifier.finish()
