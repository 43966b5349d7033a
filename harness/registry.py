"""One generic registry type: built-ins discovered on first use, third parties via entry points."""
from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Callable, Generic, Iterator, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object table with helpful lookup errors.

    >>> r = Registry("colour"); _ = r.register("red.v1", 1)
    >>> r.get("red.v1")
    1
    """

    def __init__(self, kind: str, builtin_modules: tuple[str, ...] = (), entry_point_group: str | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._builtin_modules = builtin_modules
        self._entry_point_group = entry_point_group
        self._loaded = False

    def register(self, name: str, obj: T | None = None) -> T | Callable[[T], T]:
        """Register `obj` under `name`; usable as a decorator when `obj` is omitted."""
        if obj is None:
            def deco(o: T) -> T:
                self._add(name, o)
                return o
            return deco
        self._add(name, obj)
        return obj

    def _add(self, name: str, obj: T) -> None:
        if name in self._items and self._items[name] is not obj:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = obj

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for mod in self._builtin_modules:
            importlib.import_module(mod)
        if self._entry_point_group:
            for ep in entry_points(group=self._entry_point_group):
                if ep.name not in self._items:
                    self._add(ep.name, ep.load())

    def get(self, name: str) -> T:
        """Look up `name`; unknown names raise ConfigError with a suggestion and the list."""
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        """The 'unknown X, did you mean Y' text, reusable by validators that add a YAML path."""
        self._load()
        names = sorted(self._items)
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} (known: {', '.join(names)}; see `xrobust ls`)"

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(sorted(self._items.items()))
