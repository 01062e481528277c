"""Wire formats: pure functions on bytes and dicts, no I/O, no config."""
