"""Dome Model Broker."""
