"""Declared scripts that depend on a perturbation's parameters, and specific reasons for `applied=False`."""
from __future__ import annotations

from typing import Callable



class ParamScripts:
    """A `scripts` class attribute computed from the parameters.

    On the class (`xrobust ls`, registries) it is every script some parameter setting can edit; on an
    instance it is the scripts that instance really edits, so `supports_script` stays honest when a
    parameter (e.g. `multichar=True`) switches scripts on.
    """

    def __init__(self, scripts_of: Callable[[object | None], frozenset[str]]) -> None:
        self._scripts_of = scripts_of

    def __get__(self, obj: object | None, owner: type | None = None) -> frozenset[str]:
        return self._scripts_of(obj)
