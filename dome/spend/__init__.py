"""Spend: ceilings, reservations and settlement over counter backends, and pricing."""
