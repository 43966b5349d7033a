"""Executors: where the (task, language) units of a run are computed (DESIGN.md "Scale-out").

The runner hands the units it has not finished yet to an executor, writes each unit's records and
rows to `parts/` as they come back (in whatever order they finish), and merges them in the suite's
order, so every executor gives the same records and resumes the same way. `LocalExecutor` (the
default) computes units one after another in this process with the runner's predictors;
`RayExecutor` shards them across Ray actors, each of which loads every model it needs once.
"""
from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, Sequence

import pandas as pd

from .errors import ConfigError, HarnessError

if TYPE_CHECKING:
    from .perturbation import Perturbation
    from .predictor import Predictor
    from .runner import RunOptions
    from .suite import LoadedSuite
    from .tasks import TaskAdapter

Unit = tuple[int, str]  # (index of the task in the suite, language)
UnitResult = tuple[Unit, pd.DataFrame, pd.DataFrame]  # the unit, its records, its rows (without run_id)
PredictorGetter = Callable[[str, str], "Predictor"]  # (task, head) -> predictor
RAY_HINT = "pip install 'xrobust[ray]'"


class Executor(Protocol):
    """Computes units and yields their results as they finish."""

    model_calls: int  # model inputs run outside the runner's own predictors

    def run(self, loaded: LoadedSuite, units: Sequence[Unit], adapters: Sequence[TaskAdapter],
            predictors: Sequence[Predictor], perts: Mapping[str, Perturbation],
            options: RunOptions) -> Iterator[UnitResult]:
        """Yield (unit, records, rows) once per unit, in any order."""

    def describe(self) -> dict[str, Any]:
        """Manifest entry for run.json."""


class LocalExecutor:
    """Every unit in this process, one after another, with the runner's adapters and predictors."""

    model_calls = 0  # the runner counts its own predictors' calls

    def run(self, loaded: LoadedSuite, units: Sequence[Unit], adapters: Sequence[TaskAdapter],
            predictors: Sequence[Predictor], perts: Mapping[str, Perturbation],
            options: RunOptions) -> Iterator[UnitResult]:
        """Compute the units in the order given."""
        from .runner import run_unit

        for ti, lang in units:
            records, rows = run_unit(loaded, ti, lang, adapters[ti], predictors[ti], perts, options)
            yield (ti, lang), records, rows

    def describe(self) -> dict[str, Any]:
        """Manifest entry for run.json."""
        return {"name": "local"}


def import_ray() -> Any:
    """The `ray` module, or a ConfigError saying how to install it (the core never needs ray)."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--executor ray needs Ray, which is not installed: {RAY_HINT}") from None
    return ray


class RayExecutor:
    """Units sharded across Ray actors: one actor per worker, each loading its models once.

    `make_getter` is a picklable zero-argument callable that returns the predictor getter
    `(task, head) -> Predictor` inside each worker (e.g. a `functools.partial` of the CLI's factory over
    the model paths and loading options), so workers build their own models instead of receiving them.
    Without `address` (and without a running Ray), a local cluster starts with `workers` CPUs; otherwise
    `ray.init(address=address)` joins an existing one. Data and checkpoint paths must resolve on every
    node (workers start in the driver's working directory when it exists there).
    """

    def __init__(self, make_getter: Callable[[], PredictorGetter], *, address: str | None = None,
                 workers: int | None = None, gpus_per_worker: float = 0.0):
        import_ray()  # fail before any model is loaded
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {workers}")
        if gpus_per_worker < 0:
            raise ConfigError(f"--gpus-per-worker must be >= 0, got {gpus_per_worker}")
        self.make_getter = make_getter
        self.address = address
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker
        self.model_calls = 0
        self.units_per_worker: list[int] = []
        self.devices: set[str] = set()

    def run(self, loaded: LoadedSuite, units: Sequence[Unit], adapters: Sequence[TaskAdapter],
            predictors: Sequence[Predictor], perts: Mapping[str, Perturbation],
            options: RunOptions) -> Iterator[UnitResult]:
        """Start (or join) the cluster, start the workers, and yield units as workers finish them."""
        if not units:
            return
        ray = import_ray()
        from ray.util import ActorPool

        started = not ray.is_initialized()
        if started and self.address:
            try:
                ray.init(address=self.address, runtime_env={"env_vars": _forwarded_env()})
            except ConnectionError as exc:
                raise ConfigError(f"--address {self.address}: {exc}") from None
        elif started:  # "local": a new cluster even where `ray start` or RAY_ADDRESS names another one
            ray.init(address="local", num_cpus=self.workers, include_dashboard=False)
        actors: list[Any] = []
        try:
            n = self._n_workers(ray.cluster_resources(), len(units))
            remote = ray.remote(_Worker).options(num_cpus=1, num_gpus=self.gpus_per_worker)
            actors = [remote.remote(k, loaded, self.make_getter, options.limit, os.getcwd()) for k in range(n)]
            pool = ActorPool(actors)
            for unit in units:
                pool.submit(lambda actor, u: actor.unit.remote(*u), unit)
            tick = options.progress(f"units on {n} ray workers", len(units)) if options.progress else None
            per_worker: Counter[int] = Counter()
            for done in range(1, len(units) + 1):
                try:
                    worker, unit, records, rows, calls, device = pool.get_next_unordered()
                except ray.exceptions.RayTaskError as exc:
                    cause = getattr(exc, "cause", None)
                    if isinstance(cause, HarnessError):  # a data/config problem found in a worker: exit 2
                        raise cause from None
                    raise
                per_worker[worker] += 1
                self.model_calls += calls
                self.devices.add(device)
                self.units_per_worker = [per_worker[k] for k in range(n)]
                if tick:
                    tick(done, len(units))
                yield unit, records, rows
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()

    def _n_workers(self, resources: Mapping[str, float], n_units: int) -> int:
        """Workers to start: --workers, or as many as the cluster's CPUs (GPUs with --gpus-per-worker) allow."""
        cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
        fit = int(gpus // self.gpus_per_worker) if self.gpus_per_worker else int(cpus)
        n = min(self.workers or fit, n_units)
        # an actor that does not fit waits forever for resources: refuse instead of hanging
        if n < 1 or n > cpus or n * self.gpus_per_worker > gpus:
            raise ConfigError(f"the Ray cluster has {cpus:g} CPUs and {gpus:g} GPUs; {max(n, 1)} worker(s) with 1 CPU "
                              f"and {self.gpus_per_worker:g} GPU(s) each do not fit (see --workers, --gpus-per-worker)")
        return n

    def describe(self) -> dict[str, Any]:
        """Manifest entry for run.json: the cluster, the workers and the devices they ran on."""
        return {"name": "ray", "address": self.address, "workers": len(self.units_per_worker),
                "gpus_per_worker": self.gpus_per_worker, "units_per_worker": self.units_per_worker,
                "devices": sorted(self.devices)}


class _Worker:
    """A Ray actor: builds each task's predictor and adapter on first use and computes units."""

    def __init__(self, index: int, loaded: LoadedSuite, make_getter: Callable[[], PredictorGetter],
                 limit: int | None, cwd: str):
        if os.path.isdir(cwd):  # relative data and checkpoint paths mean what they mean on the driver
            os.chdir(cwd)
        self.index, self.loaded, self.limit = index, loaded, limit
        self.get = make_getter()
        self.perts = {p.id: p.make(loaded.base_dir) for p in loaded.suite.perturbations}
        self.adapters: dict[int, TaskAdapter] = {}
        self.predictors: dict[int, Predictor] = {}

    def unit(self, ti: int, lang: str) -> tuple[int, Unit, pd.DataFrame, pd.DataFrame, int, str]:
        """(worker, unit, records, rows, model inputs run, device/dtype) of one unit."""
        from .runner import RunOptions, run_unit
        from .tasks import adapter_class, get_recipe, make_adapter

        if ti not in self.adapters:
            spec = self.loaded.suite.tasks[ti]
            recipe = get_recipe(spec.task)
            self.predictors[ti] = self.get(spec.task, adapter_class(recipe.task_type).head)
            self.adapters[ti] = make_adapter(recipe, self.predictors[ti], spec.adapter_options(self.loaded.base_dir),
                                             where=f"tasks[{ti}]")
        predictor = self.predictors[ti]
        before = predictor.calls
        records, rows = run_unit(self.loaded, ti, lang, self.adapters[ti], predictor, self.perts,
                                 RunOptions(limit=self.limit))
        about = getattr(predictor, "describe", dict)()
        device = f"{about.get('device', '?')}/{about.get('dtype', '?')}"
        return self.index, (ti, lang), records, rows, predictor.calls - before, device


def _forwarded_env() -> dict[str, str]:
    """Hub, tokenizer and xrobust settings of the driver, for workers on other nodes."""
    prefixes = ("HF_", "TRANSFORMERS_", "TOKENIZERS_", "XROBUST_")
    return {k: v for k, v in os.environ.items() if k.startswith(prefixes)}
