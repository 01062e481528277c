"""Fidelity tests of the fake upstreams, through the official vendor SDKs."""
