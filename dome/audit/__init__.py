"""The llm.* audit trail: hash-chained records written off the hot path, the start of
each call made durable before a provider sees it."""

from dome.audit.chain import Chain, ChainVerifier, Finding, VerifyReport, verify
from dome.audit.writer import AuditSink, AuditUnavailableError, AuditWriter

__all__ = [
    "AuditSink",
    "AuditUnavailableError",
    "AuditWriter",
    "Chain",
    "ChainVerifier",
    "Finding",
    "VerifyReport",
    "verify",
]
