"""A small generic registry: field types, expression functions, flow nodes, actions, charts.

Built-ins register exactly like add-ons. Unknown or duplicate keys are clear errors that name
the known keys.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    """A duplicate registration or a lookup of an unknown key."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps a stable string key to one registered item."""

    def __init__(self, name: str):
        self.name = name
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> T:
        if key in self._items:
            raise RegistryError(f"{self.name}: '{key}' is already registered")
        self._items[key] = item
        return item

    def decorator(self, key: str) -> Callable[[T], T]:
        """``@registry.decorator("key")`` registers the decorated object under ``key``."""
        def wrap(item: T) -> T:
            return self.register(key, item)
        return wrap

    def get(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise RegistryError(f"{self.name}: '{key}' does not exist; known: {known}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        return list(self._items)

    def all(self) -> list[T]:
        return list(self._items.values())

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._items.items()))

    def __len__(self) -> int:
        return len(self._items)
