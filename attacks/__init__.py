"""xrobust plugins. Importing this package registers every built-in plugin with the harness registries:
each public subpackage (char/, …) imports its own modules."""
import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if _m.ispkg and not _m.name.startswith("_") and _m.name != "resources":
        importlib.import_module(f"{__name__}.{_m.name}")
