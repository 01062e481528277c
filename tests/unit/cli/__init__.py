"""Tests of the `dome` CLI against an in-memory fake of the admin API."""
