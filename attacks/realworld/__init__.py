"""Real-world noise: perturbations that replace a text by a human-made noisy version of it; one module per
perturbation, discovered here."""
import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
