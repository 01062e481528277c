"""The audit trail: one record per call, written off the hot path."""

from dome.audit.writer import AuditSink, AuditWriter

__all__ = ["AuditSink", "AuditWriter"]
