"""Provider adapters, one module per provider kind, behind the Provider protocol."""
