"""Suite: declarative YAML validated with pydantic; every error names the file, line and YAML path."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer, model_validator

from .attack import ATTACKS, make_attack
from .errors import ConfigError
from .languages import LANGUAGES
from .perturbation import PERTURBATIONS, make_perturbation
from .tasks import TASKS
from .types import CLEAN, Cell


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    """Where a task's examples come from; `{lang}` in path/config is replaced per language."""

    format: Literal["jsonl", "tsv", "hf", "hf_disk"]
    path: str | None = None
    id: str | None = None
    config: str | None = None
    split: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    label_field: str | None = None
    id_field: str = "id"
    # keep only rows whose column starts with the value ({lang} filled in), e.g. TyDiQA's one multilingual
    # config: {id: "{lang_name}-"}
    filter: dict[str, str] = Field(default_factory=dict)
    # columns copied into each example's `meta` and on into records (e.g. a code-mixed set's `cmi`)
    meta_fields: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_location(self) -> "DataSpec":
        if self.format in ("jsonl", "tsv", "hf_disk") and not self.path:
            raise ValueError(f"format {self.format!r} needs `path`")
        if self.format == "hf" and not self.id:
            raise ValueError("format 'hf' needs `id` (a Hugging Face dataset id or builder name)")
        return self


class TaskSpec(_Strict):
    """One task of a suite: recipe name, data source, languages, limit, label map, perturbed fields."""

    task: str
    data: DataSpec | None = None
    languages: list[str] = Field(min_length=1)
    limit: int | None = Field(default=None, gt=0)
    label_map: dict[str, int | str] | None = None
    perturb_fields: list[str] | None = None
    # extractive QA: leave the answer spans untouched (edit only the context around them)
    protect_answers: bool = False
    # task-type options checked by the adapter, e.g. QA {doc_stride, max_answer_length, n_best},
    # retrieval {pool_layer}
    options: dict[str, Any] = Field(default_factory=dict)

    def adapter_options(self, base_dir: Path | None = None) -> dict[str, Any]:
        """Everything the task's adapter is built with; the adapter's file options (`path_options`), when relative,
        resolved against `base_dir` (the suite file's folder), as `data:` paths are."""
        options = dict(self.options)
        if base_dir is not None:
            for name in _path_options(self.task):
                value = options.get(name)
                if isinstance(value, str) and value:
                    options[name] = str(base_dir / Path(value).expanduser())  # an absolute path stays itself
        return {**options, "label_map": self.label_map, "protect_answers": self.protect_answers}

    @field_validator("label_map", mode="before")
    @classmethod
    def _stringify_keys(cls, v: Any) -> Any:
        return {str(k): val for k, val in v.items()} if isinstance(v, dict) else v


class PerturbationSpec(_Strict):
    """A registered perturbation id, the severities to sweep, and its parameters."""

    id: str
    severities: list[float] = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)

    def resolved_params(self, base_dir: Path | None) -> dict[str, Any]:
        """`params` with the perturbation's file parameters (`path_params`), when relative, resolved against
        `base_dir` (the suite file's folder), as `data:` paths are."""
        params = dict(self.params)
        if base_dir is not None and self.id in PERTURBATIONS:
            for name in PERTURBATIONS.get(self.id).path_params:
                value = params.get(name)
                if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                    # the value is a `{lang}` template: braces in the folder's own name must stay literal
                    folder = str(base_dir).replace("{", "{{").replace("}", "}}")
                    params[name] = str(Path(folder) / Path(value).expanduser())
        return params

    def make(self, base_dir: Path | None = None) -> Any:
        """The configured perturbation (file parameters resolved against `base_dir`)."""
        return make_perturbation(self.id, self.resolved_params(base_dir))

    @field_validator("severities")
    @classmethod
    def _in_unit_interval(cls, v: list[float]) -> list[float]:
        for s in v:
            if not 0.0 < s <= 1.0:
                raise ValueError(f"severity {s} is outside (0, 1]; the clean cell (severity 0) is always included")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate severities in {v}")
        return v


class AttackSpec(PerturbationSpec):
    """A registered attack id, its severities (the largest share of an example's words it may edit) and its
    parameters."""


class StatsSpec(_Strict):
    """Bootstrap settings for the confidence intervals."""

    bootstrap_samples: int = Field(default=1000, ge=100)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)


DEFAULT_GATE_TOLERANCE = 0.02


class Tolerance(_Strict):
    """Largest tolerated worsening, as a fraction of the metric (direction-aware: always "how much worse"),
    of the clean score and of the degradation (abs_drop); unset fields inherit from the wider level."""

    clean: float | None = Field(default=None, ge=0.0, le=1.0)
    degradation: float | None = Field(default=None, ge=0.0, le=1.0)


class GateTaskSpec(_Strict):
    """Gate policy of one task: which metric is gated (default: the task's primary metric, the first one in
    rows.csv), its tolerances, and per-language tolerances."""

    metric: str | None = None
    tolerance: Tolerance = Field(default_factory=Tolerance)
    languages: dict[str, Tolerance] = Field(default_factory=dict)


class GateSpec(_Strict):
    """The `gate:` section: when `xrobust gate` calls a cell a regression (see harness/gate.py).

    Tolerances resolve most specific first: tasks.<t>.languages.<l>, tasks.<t>.tolerance, languages.<l>,
    tolerance (global; each field defaults to 0.02)."""

    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    correction: Literal["holm", "none"] = "holm"  # Holm–Bonferroni across the languages of each comparison
    min_n: int = Field(default=30, ge=1)
    fail_on_insufficient_n: bool = False
    bootstrap_samples: int = Field(default=2000, ge=100)
    seed: int = 0
    tolerance: Tolerance = Field(default_factory=Tolerance)
    languages: dict[str, Tolerance] = Field(default_factory=dict)
    tasks: dict[str, GateTaskSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _global_defaults(self) -> "GateSpec":
        t = self.tolerance
        self.tolerance = Tolerance(clean=DEFAULT_GATE_TOLERANCE if t.clean is None else t.clean,
                                   degradation=DEFAULT_GATE_TOLERANCE if t.degradation is None else t.degradation)
        return self

    def tolerance_for(self, task: str, lang: str, kind: Literal["clean", "degradation"]) -> float:
        """The tolerance of one (task, language) for clean-score or degradation regressions."""
        t = self.tasks.get(task, GateTaskSpec())
        for level in (t.languages.get(lang), t.tolerance, self.languages.get(lang)):
            value = getattr(level, kind) if level is not None else None
            if value is not None:
                return float(value)
        return float(getattr(self.tolerance, kind))  # always set (_global_defaults)


class Suite(_Strict):
    """A whole suite file."""

    name: str
    description: str = ""
    seed: int = 0
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)
    perturbations: list[PerturbationSpec] = Field(default_factory=list)
    attacks: list[AttackSpec] = Field(default_factory=list)
    stats: StatsSpec = Field(default_factory=StatsSpec)
    gate: GateSpec | None = None  # policy of `xrobust gate`; None: its defaults

    @model_serializer(mode="wrap")
    def _without_empty_attacks(self, handler: Any) -> Any:
        # a suite without attacks dumps (and hashes) as before the section existed, so its runs still resume
        data = handler(self)
        if not self.attacks and isinstance(data, dict):
            data.pop("attacks", None)
        return data


@dataclass(frozen=True)
class LoadedSuite:
    """A validated suite with where it came from."""

    suite: Suite
    path: Path
    sha256: str

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def cells(self, task_index: int, lang: str) -> list[Cell]:
        """Clean cell first, then every (perturbation, severity, seed), then every (attack, severity, seed) of one
        task and language (an attack cell's `perturbation` is the attack id)."""
        s, t = self.suite, self.suite.tasks[task_index]
        out = [Cell(t.task, lang, CLEAN, 0.0, 0)]
        for p in s.perturbations:
            for sev in p.severities:
                for seed in s.seeds:
                    out.append(Cell(t.task, lang, p.id, float(sev), seed))
        for a in s.attacks:
            for sev in a.severities:
                for seed in s.seeds:
                    out.append(Cell(t.task, lang, a.id, float(sev), seed))
        return out


def load_suite(path: str | Path, check_files: bool = True) -> LoadedSuite:
    """Read, validate and name-check a suite file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: suite file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read suite ({exc})") from None
    try:
        node = yaml.compose(raw_text)
        raw = yaml.safe_load(raw_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a suite is a YAML mapping with `name`, `tasks`, `perturbations`")
    lines = _line_index(node)
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(_problem(path, lines, loc, err["msg"].removeprefix("Value error, ")))
        raise ConfigError("\n".join(problems)) from None
    problems = [_problem(path, lines, loc, msg) for loc, msg in _semantic_problems(suite, path.parent, check_files)]
    if problems:
        raise ConfigError("\n".join(problems))
    digest = hashlib.sha256(json.dumps(suite.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    return LoadedSuite(suite, path, digest)


def _missing_param_files(suite: Suite, pi: int, base: Path) -> list[tuple[tuple, str]]:
    """A perturbation's file parameters (`{lang}` filled in for every language of the suite) that name no file."""
    spec = suite.perturbations[pi]
    resolved = spec.resolved_params(base)
    langs = list(dict.fromkeys(lang for t in suite.tasks for lang in t.languages))
    out = []
    for name in PERTURBATIONS.get(spec.id).path_params:
        value = resolved.get(name)
        if not isinstance(value, str) or not value:
            continue
        missing = [lang for lang in langs if not Path(value.format(lang=lang)).is_file()]
        if missing:
            out.append((("perturbations", pi, "params", name),
                        f"{value.format(lang=missing[0])} is not a file (language {missing[0]!r}"
                        f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}; a relative path is taken "
                        "from the suite file's folder)"))
    return out


def _path_options(task: str) -> tuple[str, ...]:
    """The options of `task`'s adapter that name files (none for an unknown task)."""
    from .tasks import adapter_class

    return adapter_class(TASKS.get(task).task_type).path_options if task in TASKS else ()


def _semantic_problems(suite: Suite, base: Path, check_files: bool) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    for ti, t in enumerate(suite.tasks):
        if t.task not in TASKS:
            out.append((("tasks", ti, "task"), TASKS.unknown_message(t.task)))
            continue
        recipe = TASKS.get(t.task)
        unknown = set()
        for li, lang in enumerate(t.languages):
            if lang not in LANGUAGES and lang not in recipe.languages:
                out.append((("tasks", ti, "languages", li), _unknown_language(lang)))
                unknown.add(lang)
            elif t.data is None and recipe.hf_source and lang not in recipe.hf_languages:
                # the hub source has no such config/rows; with a `data:` section any known language is fine
                out.append((("tasks", ti, "languages", li),
                            f"{lang!r} is not a language of {t.task}'s default dataset {recipe.hf_source.get('id', '')}; "
                            f"valid languages: {', '.join(recipe.hf_languages)} (or add a `data:` section with your own "
                            f"{lang} data)"))
        for fi, f in enumerate(t.perturb_fields or []):
            if f not in recipe.fields:
                out.append((("tasks", ti, "perturb_fields", fi), f"{f!r} is not a field of {t.task} {list(recipe.fields)}"))
            elif f in recipe.fixed_fields:
                out.append((("tasks", ti, "perturb_fields", fi),
                            f"{f!r} cannot be perturbed in {t.task} (a fixed keyword); perturb {list(recipe.default_perturbable)}"))
        out.extend(_token_count_problems(suite, ti, recipe))
        if t.data is None and not recipe.hf_source:
            out.append((("tasks", ti), f"task {t.task!r} has no default dataset; add a `data:` section"))
        if check_files:
            resolved = t.adapter_options(base)
            for name in _path_options(t.task):
                value = t.options.get(name)
                if isinstance(value, str) and value and not Path(resolved[name]).is_file():
                    out.append((("tasks", ti, "options", name), f"{resolved[name]} is not a file (a relative path is "
                                                                 "taken from the suite file's folder)"))
        if check_files and t.data and t.data.format in ("jsonl", "tsv", "hf_disk"):
            for li, lang in enumerate(t.languages):
                p = base / t.data.path.format(lang=lang)
                if lang not in unknown and not p.exists():
                    out.append((("tasks", ti, "data", "path"), f"{p} does not exist (language {lang!r})"))
    for pi, p in enumerate(suite.perturbations):
        if p.id not in PERTURBATIONS:
            out.append((("perturbations", pi, "id"), PERTURBATIONS.unknown_message(p.id)))
            continue
        try:
            p.make(base)
        except ConfigError as exc:
            out.append((("perturbations", pi, "params"), str(exc)))
            continue
        if check_files:
            out.extend(_missing_param_files(suite, pi, base))
    out.extend(_attack_problems(suite))
    out.extend(_gate_problems(suite))
    ids = [p.id for p in suite.perturbations]
    for pi, pid in enumerate(ids):
        if ids.index(pid) != pi:
            out.append((("perturbations", pi, "id"), f"{pid!r} is listed twice; put all its severities in one entry"))
    return out


def _token_count_problems(suite: Suite, ti: int, recipe: Any) -> list[tuple[tuple, str]]:
    """Token tasks keep one label per word: perturbations that split or merge words are refused up front."""
    from .tasks import adapter_class

    if not adapter_class(recipe.task_type).needs_token_count:
        return []
    out = []
    for pi, p in enumerate(suite.perturbations):
        if p.id in PERTURBATIONS and not PERTURBATIONS.get(p.id).keeps_token_count:
            out.append((("perturbations", pi, "id"),
                        f"{p.id} splits or merges words, so the word labels of tasks[{ti}] ({recipe.name}) would no "
                        "longer line up; token tasks take only word-local perturbations (`xrobust ls perturbations`, "
                        "column keeps_token_count): run it in a separate suite"))
    return out


def _attack_problems(suite: Suite) -> list[tuple[tuple, str]]:
    """Attack ids, parameters, duplicates, and task types an attack has no goal for."""
    from .tasks import adapter_class

    out: list[tuple[tuple, str]] = []
    ids = [a.id for a in suite.attacks]
    for ai, a in enumerate(suite.attacks):
        if a.id not in ATTACKS:
            out.append((("attacks", ai, "id"), ATTACKS.unknown_message(a.id)))
            continue
        if ids.index(a.id) != ai:
            out.append((("attacks", ai, "id"), f"{a.id!r} is listed twice; put all its severities in one entry"))
        try:
            attack = make_attack(a.id, a.params)
        except ConfigError as exc:
            out.append((("attacks", ai, "params"), str(exc)))
            continue
        for ti, t in enumerate(suite.tasks):
            if t.task in TASKS:
                cls = adapter_class(TASKS.get(t.task).task_type)
                why = attack.supports(cls.task_type, cls.needs_token_count)
                if why:
                    out.append((("attacks", ai, "id"), f"cannot attack tasks[{ti}] ({t.task}): {why}"))
    return out


def _gate_problems(suite: Suite) -> list[tuple[tuple, str]]:
    """The gate policy may only name tasks and languages of the suite."""
    if suite.gate is None:
        return []
    tasks = {t.task for t in suite.tasks}
    langs = {lang for t in suite.tasks for lang in t.languages}
    out = [(("gate", "tasks", name), f"{name!r} is not a task of this suite ({', '.join(sorted(tasks))})")
           for name in suite.gate.tasks if name not in tasks]
    out += [(("gate", "languages", lang), f"{lang!r} is not a language of this suite ({', '.join(sorted(langs))})")
            for lang in suite.gate.languages if lang not in langs]
    for name, spec in suite.gate.tasks.items():
        task_langs = {lang for t in suite.tasks if t.task == name for lang in t.languages}
        out += [(("gate", "tasks", name, "languages", lang), f"{lang!r} is not a language of task {name!r}")
                for lang in spec.languages if name in tasks and lang not in task_langs]
    return out


def _unknown_language(lang: str) -> str:
    return LANGUAGES.unknown_message(lang)


def _problem(path: Path, lines: dict[tuple, int], loc: tuple, msg: str) -> str:
    line = None
    probe = loc
    while probe and line is None:
        line = lines.get(probe)
        probe = probe[:-1]
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {_yaml_path(loc)}: {msg}"


def _yaml_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _line_index(node: yaml.Node | None, prefix: tuple = ()) -> dict[tuple, int]:
    """YAML path -> 1-based line number of its value, for error messages."""
    out: dict[tuple, int] = {}
    if node is None:
        return out
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[prefix + (k,)] = key.start_mark.line + 1
            for sub, line in _line_index(value, prefix + (k,)).items():
                if sub != prefix + (k,):
                    out[sub] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_line_index(item, prefix + (i,)))
    return out


__all__ = ["Suite", "TaskSpec", "DataSpec", "PerturbationSpec", "AttackSpec", "GateSpec", "GateTaskSpec", "Tolerance",
           "LoadedSuite", "load_suite"]
