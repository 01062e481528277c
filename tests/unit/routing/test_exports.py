"""The package's public names are exactly what `__all__` lists."""

from __future__ import annotations

import dome.routing


def test_all_names_exist_and_are_sorted() -> None:
    exported = dome.routing.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    for name in exported:
        assert hasattr(dome.routing, name), name


def test_every_public_name_is_exported() -> None:
    public = {
        name
        for name, value in vars(dome.routing).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("dome.routing")
    }
    assert public <= set(dome.routing.__all__)
