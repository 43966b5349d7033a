"""Command line: a thin typer shell over the library. Exit codes are mapped only here (`main`)."""
from __future__ import annotations

import functools
import json
import os
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .errors import (EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ConfigError, DataError, HarnessError,
                     Interrupted)

app = typer.Typer(
    name="xrobust",
    help="Robustness benchmarking for fine-tuned multilingual encoders (XLM-R) across XTREME-R languages.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_SUITE = REPO_ROOT / "suites" / "demo.yaml"


@contextmanager
def _progress(quiet: bool) -> Iterator:
    """A progress factory backed by one rich Progress display (None when quiet)."""
    if quiet:
        yield None
        return
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=False) as prog:
        def factory(description: str, total: int):
            task = prog.add_task(description, total=max(total, 1))
            if total == 0:
                prog.update(task, completed=1)

            def update(completed: int, total_now: int) -> None:
                prog.update(task, completed=completed, total=max(total_now, 1))
            return update
        yield factory


def _predictor_factory(models: List[str], tasks: list[str], device: str, dtype: str, batch_size: int,
                       max_length: int, allow_pickle: bool, trust_remote_code: bool, prediction_cache=None):
    """`get(task, head)`: the checkpoint for a task (`--model TASK=DIR` or the default `--model DIR`),
    loaded once per (checkpoint, head)."""
    from .predictor import HFPredictor

    default, per_task = _parse_models(models, tasks)
    cache: dict[tuple[str, str], HFPredictor] = {}

    def get(task: str, head: str) -> HFPredictor:
        model = per_task.get(task, default)
        if model is None:
            raise ConfigError(f"no checkpoint for task {task!r}: add `--model {task}=DIR` or a default `--model DIR`")
        if (model, head) not in cache:
            with err.status(f"loading {model} ({head})"):
                cache[model, head] = HFPredictor(model, head=head, device=device, dtype=dtype, batch_size=batch_size,
                                                 max_length=max_length, allow_pickle=allow_pickle,
                                                 trust_remote_code=trust_remote_code, cache=prediction_cache)
        return cache[model, head]
    return get


def _parse_models(models: List[str], tasks: list[str]) -> tuple[Optional[str], dict[str, str]]:
    default: Optional[str] = None
    per_task: dict[str, str] = {}
    for m in models:
        task, sep, path = m.partition("=")
        if sep and task in tasks:
            per_task[task] = path
        elif sep and not Path(m).exists():
            raise ConfigError(f"--model {m}: {task!r} is not a task of this suite (tasks: {', '.join(tasks)})")
        elif default is not None:
            raise ConfigError(f"--model given twice without a task ({default}, {m}); use --model TASK=DIR for each task")
        else:
            default = m
    return default, per_task


def _executor(name: str = "local", address: Optional[str] = None, workers: Optional[int] = None,
              gpus_per_worker: float = 0.0, *, device: str, make_getter):
    """The executor `--executor` names (None: the runner's local default), with its options checked."""
    if name == "local":
        given = [opt for opt, v in (("--address", address), ("--workers", workers),
                                    ("--gpus-per-worker", gpus_per_worker or None)) if v is not None]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --executor ray")
        return None
    if name != "ray":
        raise ConfigError(f"--executor must be local or ray, got {name!r}")
    if device == "cuda" and not gpus_per_worker:
        raise ConfigError("--device cuda with --executor ray needs --gpus-per-worker (Ray hides GPUs from workers "
                          "that ask for none)")
    from .executors import RayExecutor

    return RayExecutor(make_getter, address=address, workers=workers, gpus_per_worker=gpus_per_worker)


def _worker_factory(cache: bool, cache_dir: Optional[Path], *args):
    """`_predictor_factory(*args)` with its own handle on the prediction cache: what each Ray worker builds."""
    from .cache import open_cache

    return _predictor_factory(*args, open_cache(cache_dir) if cache else None)


def _run(suite_path: Path, models: List[str], out_dir: Optional[Path], limit: Optional[int], device: str, dtype: str,
         batch_size: int, max_length: int, allow_pickle: bool, trust_remote_code: bool, quiet: bool,
         cache: bool = True, cache_dir: Optional[Path] = None,
         executor_opts: Optional[dict] = None) -> None:
    from .cache import open_cache
    from .report import console_summary
    from .runner import RunOptions, run_suite
    from .suite import load_suite

    loaded = load_suite(suite_path)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {limit}")
    get = _predictor_factory(models, [t.task for t in loaded.suite.tasks], device, dtype, batch_size, max_length,
                             allow_pickle, trust_remote_code, open_cache(cache_dir) if cache else None)
    from . import cli  # workers get the factory by module path, also under `python -m harness.cli`

    tasks = [t.task for t in loaded.suite.tasks]
    executor = _executor(**(executor_opts or {}), device=device, make_getter=functools.partial(
        cli._worker_factory, cache, cache_dir, models, tasks, device, dtype, batch_size, max_length, allow_pickle,
        trust_remote_code))
    if executor is not None:  # the driver's models only fingerprint and validate the run: keep them off the GPUs
        # (with the cache, a checkpoint fingerprinted before is not even loaded here)
        get = _predictor_factory(models, tasks, "cpu", "float32", batch_size, max_length, allow_pickle,
                                 trust_remote_code, open_cache(cache_dir) if cache else None)
    with _progress(quiet) as factory:
        result = run_suite(loaded, get, RunOptions(out=out_dir, limit=limit, progress=factory,
                                                   command=shlex.join(["xrobust", *sys.argv[1:]]), executor=executor))
    out.print(console_summary(result.rows, width=max(out.width, 80)), markup=False, highlight=False, soft_wrap=True)
    m = result.manifest
    out.print(f"\n{m['n_cells']} cells, {m['n_records']} records, {m['model_calls']} model inputs, "
              f"{m['wall_seconds']:.1f} s", highlight=False)
    out.print(f"report: {result.files['html']}\nsummary: {result.files['summary']}\n"
              f"rows: {result.files['rows']}", highlight=False)


@app.command()
def run(
    suite: Path = typer.Argument(..., help="Suite YAML file."),
    model: List[str] = typer.Option(..., "--model", "-m", help="Fine-tuned checkpoint: a local directory or a hub id. "
                                    "Repeat as --model TASK=DIR to give each task of the suite its own checkpoint "
                                    "(each task type needs its own head)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run directory (default reports/runs/<run_id>). "
                                           "Re-running with the same --out resumes an interrupted run."),
    limit: Optional[int] = typer.Option(None, help="At most N examples per task and language."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    dtype: str = typer.Option("auto", help="auto | float32 | bfloat16 | float16 (auto: bf16/fp16 on GPU, fp32 on CPU)"),
    batch_size: int = typer.Option(32, help="Inputs per forward pass (results do not depend on it)."),
    max_length: int = typer.Option(256, help="Truncate inputs to this many sub-tokens."),
    allow_pickle: bool = typer.Option(False, help="Allow pickle *.bin weights (loaded with weights_only=True)."),
    trust_remote_code: bool = typer.Option(False, help="Run model code shipped with the checkpoint (only if you trust it)."),
    executor: str = typer.Option("local", help="local | ray: where the (task, language) units run; records are "
                                 "identical either way."),
    address: Optional[str] = typer.Option(None, help="--executor ray: join this running Ray cluster (auto or "
                                          "HOST:PORT); default: start a local one."),
    workers: Optional[int] = typer.Option(None, help="--executor ray: workers, each loading the models once (default: "
                                          "as many as the cluster's CPUs, or GPUs / --gpus-per-worker, allow)."),
    gpus_per_worker: float = typer.Option(0.0, help="--executor ray: GPUs each worker asks Ray for (1; 0.5 shares one)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse model outputs computed before for the same "
                               "checkpoint, dtype and input (a re-run of an unchanged suite makes no model calls, and "
                               "does not load the weights of a local or offline-cached checkpoint). The cache never "
                               "shrinks: `xrobust cache clear` empties it."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", envvar="XROBUST_PREDICTION_CACHE_DIR",
                                             help="Directory of the prediction cache (predictions.sqlite); default "
                                             "$XROBUST_CACHE_DIR or the user cache dir."),
) -> None:
    """Run SUITE on one checkpoint and write the run directory (run.json, records, rows, reports)."""
    _run(suite, model, out_dir, limit, device, dtype, batch_size, max_length, allow_pickle, trust_remote_code, quiet,
         cache=cache, cache_dir=cache_dir,
         executor_opts=dict(name=executor, address=address, workers=workers, gpus_per_worker=gpus_per_worker))


@app.command()
def validate(suite: Path = typer.Argument(..., help="Suite YAML file.")) -> None:
    """Check a suite: schema, registered names, languages, data paths. Exit 2 on the first problem list."""
    from .suite import load_suite

    loaded = load_suite(suite)
    s = loaded.suite
    n_cells = sum(len(t.languages) * len(loaded.cells(i, t.languages[0])) for i, t in enumerate(s.tasks))
    out.print(f"{suite}: ok — {len(s.tasks)} task(s), {len(s.perturbations)} perturbation(s), {n_cells} cells "
              f"(suite sha256 {loaded.sha256[:12]})", highlight=False)


@app.command("ls")
def ls(
    what: str = typer.Argument(..., help="perturbations | tasks | languages | attacks"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """List registered perturbations, tasks, languages or attacks."""
    from .languages import LANGUAGES
    from .perturbation import PERTURBATIONS
    from .tasks import TASKS

    if what == "perturbations":
        items = [{"id": pid, "family": cls.family, "scripts": sorted(cls.scripts) if "*" not in cls.scripts else ["*"],
                  "keeps_token_count": cls.keeps_token_count, "description": cls.description}
                 for pid, cls in PERTURBATIONS.items()]
    elif what == "tasks":
        from .tasks import adapter_class

        def task_item(name: str, r) -> dict:
            # metrics from the task type's adapter (primary first); hf: the default hub source as id:config:split
            # with {lang} placeholders ("" when suites must give `data:`)
            item = {"id": name, "task_type": r.task_type, "metrics": list(adapter_class(r.task_type).metrics_for(r)),
                    "languages": list(r.languages),
                    "hf": ":".join(str(r.hf_source.get(k) or "") for k in ("id", "config", "split")) if r.hf_source else "",
                    "fields": list(r.fields), "labels": list(r.label_names), "hf_source": dict(r.hf_source)}
            if fmt != "json":  # the table keeps what fits a terminal; JSON adds the exact source per language
                return {k: item[k] for k in ("id", "task_type", "metrics", "languages", "hf")}
            item["hf_sources"] = {lang: r.hf_source_for(lang) for lang in r.languages} if r.hf_source else {}
            return item

        items = [task_item(name, r) for name, r in TASKS.items()]
    elif what == "languages":
        items = [{"id": code, "name": lang.name, "script": lang.script, "family": lang.family, "genus": lang.genus,
                  "tier": lang.tier, "matrix": lang.matrix, "embedded": lang.embedded}  # matrix/embedded: pairs only
                 for code, lang in LANGUAGES.items()]
        if fmt == "table":  # blank, not "None", for the monolingual languages' matrix/embedded
            items = [{k: "" if v is None else v for k, v in it.items()} for it in items]
    elif what == "attacks":
        from .attack import ATTACKS

        items = [{"id": aid, "description": cls.description} for aid, cls in ATTACKS.items()]
    else:
        raise ConfigError(f"`xrobust ls` lists perturbations, tasks, languages or attacks, not {what!r}")
    _emit(items, fmt)


def _emit(items: list[dict], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=1) + "\n")
        return
    if fmt != "table":
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    table = Table(show_lines=False)
    keys = [k for k in items[0] if k != "hf_source"] if items else []
    for k in keys:
        table.add_column(k)
    for it in items:
        # escaped: descriptions such as "xrobust[textattack]" are text, not rich markup
        table.add_row(*[escape(", ".join(map(str, v)) if isinstance(v, list) else str(v)) for v in (it[k] for k in keys)])
    out.print(table)


@app.command()
def perturb(
    texts: Optional[List[str]] = typer.Argument(None, help="Text(s) to perturb."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code (chooses keyboard layout, segmentation)."),
    perturbation: str = typer.Option(..., "--perturbation", "-p", help="Registered perturbation id (`xrobust ls perturbations`)."),
    severity: float = typer.Option(0.3, help="Share of eligible words to edit, in [0, 1]."),
    seed: int = typer.Option(0, help="Seed; the same seed gives the same output."),
    file: Optional[Path] = typer.Option(None, "--file", help="A text file, one input per line, instead of TEXTS."),
    data: Optional[Path] = typer.Option(None, "--data", help="A JSONL file; perturbs its --field of each row, "
                                        "with the same per-example randomness as `xrobust run` (row id, field)."),
    field: str = typer.Option("text", "--field", help="The text field of --data rows (e.g. premise)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="At most N lines of --file and N rows of --data."),
    param: Optional[List[str]] = typer.Option(None, "--param", help="key=value for a parameter of the perturbation "
                                              "(repeatable; ints, floats, true/false, comma lists)."),
    fmt: str = typer.Option("table", "--format", help="table | json (one JSON object per line)"),
) -> None:
    """Show original vs perturbed text for one perturbation and severity."""
    from .perturbation import make_perturbation
    from .rng import derive_rng

    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {limit}")
    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    inputs = _preview_inputs(texts or [], file, data, field, lang, limit)
    if not inputs:
        raise ConfigError("give the text to perturb as an argument, with --file or with --data")
    params = parse_params(perturbation, param or [])
    p = make_perturbation(perturbation, params)
    if not 0.0 <= severity <= 1.0:
        raise ConfigError(f"--severity must be in [0, 1], got {severity}")
    results = []
    for ex_id, key, text in inputs:
        res = p.perturb(text, severity, derive_rng(seed, p.id, severity, ex_id, key), lang)
        results.append({"id": ex_id, "original": text, "perturbed": res.text, "applied": res.applied,
                        "edit_rate": round(res.edit_rate, 6), "words_edited": res.n_edited,
                        "eligible_words": res.n_eligible, "reason": res.reason,
                        **({"meta": dict(res.meta)} if res.meta else {})})
    if fmt == "json":
        for r in results:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    shown = "".join(f" · {k}={','.join(map(str, v)) if isinstance(v, (tuple, list, frozenset)) else v}"
                    for k, v in params.items())
    table = Table(title=escape(f"{p.id}{shown} · lang={lang} · severity={severity} · seed={seed}"), show_lines=True)
    for col in ("original", "perturbed", "applied", "edit rate", "words"):
        table.add_column(col)
    for r in results:
        table.add_row(escape(r["original"]), escape(r["perturbed"]), "yes" if r["applied"] else escape(f"no ({r['reason']})"),
                      f"{r['edit_rate']:.3f}", f"{r['words_edited']}/{r['eligible_words']}")
    out.print(table)


def _preview_inputs(texts: List[str], file: Optional[Path], data: Optional[Path], field: str, lang: str,
                    limit: Optional[int]) -> list[tuple[str, str, str]]:
    """(example id, field, NFC text) to perturb: TEXTS and --file lines keyed `cli-<i>`/`text`, as
    before; --data rows keyed by their `id` (else `<lang>:<line>`) and the field, as the runner keys them."""
    from .text import nfc

    lines = list(texts)
    if file is not None:
        try:
            read = [ln.rstrip("\n") for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read ({exc})") from None
        lines += read[:limit] if limit else read
    inputs = [(f"cli-{i}", "text", nfc(t)) for i, t in enumerate(lines)]
    if data is not None:
        inputs += _data_inputs(data, field, lang, limit)
    return inputs


def _data_inputs(path: Path, field: str, lang: str, limit: Optional[int]) -> list[tuple[str, str, str]]:
    from .text import nfc

    out: list[tuple[str, str, str]] = []
    try:
        f = path.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with f:
        for lineno, line in enumerate(f, 1):
            if limit is not None and len(out) >= limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise DataError(f"{path}:{lineno}: invalid JSON ({exc})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            value = row.get(field)
            if not isinstance(value, str):
                text_fields = sorted(k for k, v in row.items() if isinstance(v, str))
                raise DataError(f"{path}:{lineno}: no text field {field!r} (--field); text fields: {text_fields}")
            raw_id = row.get("id")
            ex_id = str(raw_id) if raw_id not in (None, "") else f"{lang}:{lineno}"
            out.append((ex_id, field, nfc(value)))
    return out


_TRUE, _FALSE, _NONE = {"true", "yes", "on"}, {"false", "no", "off"}, {"none", "null"}


def parse_params(pid: str, items: List[str]) -> dict[str, object]:
    """`--param key=value` strings -> keyword arguments for registered perturbation `pid`."""
    from .perturbation import PERTURBATIONS

    return params_from_strings(PERTURBATIONS.get(pid), items, pid)


def params_from_strings(cls: type, items: List[str], name: str) -> dict[str, object]:
    """`key=value` strings -> keyword arguments for the dataclass `cls`.

    Values follow the field's annotation when it is a plain type (str, int, float, bool, optionally
    `| None`, or a tuple/list/frozenset of them given as a comma list); otherwise ints, floats,
    true/false, none and comma lists are recognised. Unknown keys raise ConfigError listing the fields.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class P:
    ...     targets: tuple[str, ...] = ()
    ...     romanize: bool = False
    ...     k: int = 1
    >>> params_from_strings(P, ["targets=hi,de", "romanize=true", "k=2"], "p")
    {'targets': ('hi', 'de'), 'romanize': True, 'k': 2}
    """
    import dataclasses
    import difflib

    fields = {f.name: f for f in dataclasses.fields(cls)}
    params: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--param {item!r}: expected key=value")
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"--param {key}: {name} has no parameter {key!r}; {hint}parameters: {sorted(fields) or 'none'}")
        params[key] = _coerce(raw.strip(), fields[key].type, key)
    return params


def _coerce(raw: str, annotation: object, key: str) -> object:
    ann = (annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))).replace(" ", "")
    optional = ann.endswith("|None") or ann.startswith("Optional[")
    base = ann.removesuffix("|None").removeprefix("Optional[").removesuffix("]") if optional else ann
    if optional and raw.lower() in _NONE:
        return None
    for prefix, make in (("tuple", tuple), ("list", list), ("frozenset", frozenset), ("set", frozenset),
                         ("Sequence", tuple), ("typing.Sequence", tuple)):
        if base == prefix or base.startswith(prefix + "["):
            inner = base[len(prefix) + 1:-1].split(",")[0] if "[" in base else ""
            return make(_coerce(x.strip(), inner, key) for x in raw.split(",") if x.strip())
    if base == "str":
        return raw
    value = _scalar(raw)
    if base == "bool" and not isinstance(value, bool):
        raise ConfigError(f"--param {key}={raw}: expected true or false")
    if base == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"--param {key}={raw}: expected an integer")
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"--param {key}={raw}: expected a number")
        return float(value)
    if base in ("", "object", "Any") and isinstance(value, str) and "," in value:
        return tuple(_scalar(x.strip()) for x in value.split(",") if x.strip())
    return value


def _scalar(raw: str) -> object:
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    for conv in (int, float):
        try:
            return conv(raw)
        except ValueError:
            pass
    if "," in raw:
        return tuple(_scalar(x.strip()) for x in raw.split(",") if x.strip())
    return raw


@app.command()
def calibrate(
    langs: Optional[str] = typer.Option(None, "--langs", help="Comma list of language codes (default: the 15 "
                                        "XNLI demo languages); en, the reference, is always measured."),
    perturbations: Optional[str] = typer.Option(None, "--perturbations", "-p",
                                                help="Comma list of perturbation ids (default: every registered one)."),
    severities: str = typer.Option("0.1,0.3,0.5", "--severities", help="Comma list of nominal severities in (0, 1]."),
    n: int = typer.Option(200, "--n", help="Sample texts per language."),
    unit: str = typer.Option("word", "--unit", help="Severity unit: word (share of eligible words, the default of "
                             "every perturbation) | grapheme (edits per grapheme, calibrated to English)."),
    by: str = typer.Option("lang", "--by", help="lang | script (pools the languages of a script)."),
    seed: int = typer.Option(0, help="Seed of the per-text randomness."),
    file: Optional[str] = typer.Option(None, "--file", help="Sample texts instead of the demo data: one per line, or "
                                       "JSONL with --field; `{lang}` in the path is replaced by each language."),
    field: Optional[str] = typer.Option(None, "--field", help="Text field of JSONL samples (demo data: premise, hypothesis)."),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Measured grapheme edit rate per language/script vs the English figure, per perturbation and severity."""
    from .calibrate import calibrate as run_calibration, demo_languages
    from .perturbation import PERTURBATIONS

    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    lang_list = _csv(langs) if langs else demo_languages()
    pids = _csv(perturbations) if perturbations else PERTURBATIONS.names()
    try:
        sevs = [float(s) for s in _csv(severities)]
    except ValueError:
        raise ConfigError(f"--severities must be numbers, got {severities!r}") from None
    report = run_calibration(lang_list, pids, sevs, n, unit=unit, by=by, seed=seed, file=file, field=field)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
        return
    _calibration_table(report, n)


def _calibration_table(report, n: int) -> None:
    from rich import box

    from .calibrate import REFERENCE_GRAPHEMES_PER_WORD

    ref, by = report.reference, report.by
    table = Table(title=f"grapheme edit rate vs {ref} · unit={report.unit} · up to {n} texts per language",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col, justify in (("perturbation", "left"), ("sev", "right"), ("script", "left"),
                         ("lang" if by == "lang" else "langs", "left"), ("applied", "right"),
                         ("edit rate", "right"), (f"× {ref}", "right"), (f"±{report.tolerance:.0%}", "left"),
                         ("note", "right")):
        table.add_column(col, justify=justify, no_wrap=col != "note")  # type: ignore[arg-type]
    notes: dict[str, int] = {}
    for r in report.rows:
        ok = "" if r.within_tolerance is None else ("ok" if r.within_tolerance else "OUT")
        mark = str(notes.setdefault(r.note, len(notes) + 1)) if r.note else ""
        ratio = "—" if r.ratio_to_reference is None else f"{r.ratio_to_reference:.2f}"
        table.add_row(r.perturbation, f"{r.severity:g}", r.script, r.group if by == "lang" else ",".join(r.langs),
                      f"{r.applied_rate:.2f}", f"{r.mean_edit_rate:.4f}", ratio, ok, mark)
    out.print(table)
    for text, i in notes.items():
        out.print(escape(f"[{i}] {text}"), highlight=False)
    checked, failed = report.checked(), report.failures()
    unit_note = (f"; {REFERENCE_GRAPHEMES_PER_WORD} graphemes per reference word" if report.unit == "grapheme" else "")
    out.print(f"{len(checked) - len(failed)}/{len(checked)} supported cells within ±{report.tolerance:.0%} of {ref} "
              f"(unit={report.unit}{unit_note})", highlight=False)


def _csv(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


@app.command()
def demo(
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run directory (default reports/runs/<run_id>)."),
    limit: Optional[int] = typer.Option(None, help="At most N examples per language (the suite uses 300)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Offline demo: build (once, cached) a small XLM-R XNLI classifier and run suites/demo.yaml on it."""
    from .modelbuild import ensure_demo_model

    if not DEMO_SUITE.exists():
        raise ConfigError(f"{DEMO_SUITE}: demo suite not found; run the demo from a clone of the xrobust repository")
    with _progress(quiet) as factory:
        cb = None
        if factory:
            bars: dict[str, object] = {}

            def cb(description: str, completed: int, total: int) -> None:
                if description not in bars:
                    bars[description] = factory(description, total)
                bars[description](completed, total)  # type: ignore[operator]
        model_dir = ensure_demo_model(progress=cb)
    err.print(f"demo model: {model_dir}", highlight=False)
    _run(DEMO_SUITE, [str(model_dir)], out_dir, limit, "auto", "auto", 64, 256, False, False, quiet)


@app.command()
def score(
    task: str = typer.Option(..., "--task", "-t", help="xnli | pawsx | xcopa | panx | udpos | xquad | mlqa | tydiqa"
                             " | bucc2018 | tatoeba | mewslix"),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code (MLQA's answer normalisation depends on it)."),
    predictions: Path = typer.Option(..., "--predictions", help="Predictions file (XTREME submission format or JSONL)."),
    references: Path = typer.Option(..., "--references", help="Gold file (XTREME label format, SQuAD JSON or JSONL)."),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Score predictions made elsewhere against references, with the metrics `xrobust run` uses (fractions in [0,1])."""
    from .score import score_files

    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    values = score_files(task, lang, predictions, references)
    if fmt == "json":
        sys.stdout.write(json.dumps({"task": task, "lang": lang, **values}) + "\n")
        return
    table = Table(title=escape(f"{task} · {lang}"))
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in values.items():
        table.add_row(name, f"{value:.4f}")
    out.print(table)


@app.command()
def gate(
    run_dir: Path = typer.Argument(..., help="The candidate run directory (from `xrobust run`)."),
    baseline: Path = typer.Option(..., "--baseline", help="Baseline: a directory from `xrobust baseline update` "
                                  "(or another complete run directory) of the same suite, data and perturbations."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Where gate.json, gate.junit.xml and gate.md go "
                                           "(default: RUN_DIR)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Bootstrap seed (default: the policy's gate.seed)."),
    samples: Optional[int] = typer.Option(None, "--samples", help="Bootstrap resamples (default: gate.bootstrap_samples)."),
) -> None:
    """Gate a run against a baseline with the suite's `gate:` policy. Exit 0 pass, 1 regression, 2 usage error.

    Clean: the candidate's clean score is worse than the baseline's by more than the `clean` tolerance.

    Degradation: a perturbed cell's drop from clean (abs_drop) exceeds the baseline's by more than `degradation`.

    Either fails only if a paired test on the identical items is significant at `alpha` (Holm across languages).

    Cells with fewer than `min_n` examples are reported as insufficient n, not passed.

    A run and a baseline that measured different things are refused, naming what differs (exit 2).
    """
    from .errors import EXIT_GATE_FAILED
    from .gate import run_gate, write_gate_outputs

    result = run_gate(run_dir, baseline, seed=seed, bootstrap_samples=samples)
    files = write_gate_outputs(result, out_dir or run_dir)
    verdict = "[bold green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
    out.print(f"gate: {verdict} — {result.count('fail')} regression(s), {result.count('insufficient_n')} with "
              f"insufficient n, {result.count('undefined')} undefined, {result.count('pass')} passed "
              f"({len(result.verdicts)} cells)", highlight=False)
    for v in result.verdicts:
        if v.status != "pass":
            out.print(escape(f"  {v.status:<15} {v.cell} {v.metric}: {v.reason}"), highlight=False, soft_wrap=True)
    out.print(escape(f"gate.json: {files['json']}\njunit: {files['junit']}\nmarkdown: {files['md']}"), highlight=False)
    if not result.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


@app.command()
def compare(
    run_dirs: List[Path] = typer.Argument(..., help="Two or more complete run directories of the same suite and data."),
    reference: Optional[str] = typer.Option(None, "--reference", help="The run the others are compared with: a run "
                                            "directory name, run id or checkpoint source, or a position (1 = the "
                                            "first RUN_DIR, the default)."),
    meta: Optional[Path] = typer.Option(None, "--meta", help="Checkpoint metadata CSV: a `run` (or `checkpoint`) column "
                                        "naming each run, numeric columns to rank-correlate with the robustness "
                                        "numbers (at least 3 runs)."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write compare.md, compare.csv and compare.html here "
                                           "(only the --format one if given) instead of printing."),
    fmt: Optional[str] = typer.Option(None, "--format", help="md | csv | html (default: md on stdout; all three "
                                      "with --out)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap resamples and permutations."),
    samples: int = typer.Option(2000, "--samples", help="Bootstrap resamples (paired tests of non-binary scores; "
                                "correlation CIs)."),
) -> None:
    """Compare checkpoints: runs side by side with paired tests against a reference (Holm across languages),
    robustness numbers per run, and with --meta their Spearman correlation with checkpoint metadata.

    Runs that did not measure the same thing (suite, perturbations, items) are refused, naming what differs (exit 2).
    """
    from .compare import RENDERERS, compare_runs, write_compare_outputs

    if fmt is not None and fmt not in RENDERERS:
        raise ConfigError(f"--format must be one of {', '.join(RENDERERS)}, got {fmt!r}")
    result = compare_runs(run_dirs, reference=reference, meta=meta, seed=seed, samples=samples)
    if out_dir is None:
        sys.stdout.write(RENDERERS[fmt or "md"](result))
        return
    files = write_compare_outputs(result, out_dir, [fmt] if fmt else list(RENDERERS))
    out.print(escape("\n".join(f"{k}: {p}" for k, p in files.items())), highlight=False)


baseline_app = typer.Typer(help="Small, reviewable baselines for `xrobust gate`.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("update")
def baseline_update(
    run_dir: Path = typer.Argument(..., help="A complete run directory."),
    to: Path = typer.Option(..., "--to", help="Baseline directory to write (e.g. reports/baselines/<suite>); "
                            "its run.json, rows.csv and records.parquet are replaced."),
) -> None:
    """Write the baseline of RUN_DIR: run.json subset, rows.csv, and the records columns the paired tests need."""
    from .baseline import write_baseline

    files = write_baseline(run_dir, to)
    size = sum(p.stat().st_size for p in files.values())
    out.print(escape(f"baseline written to {to} ({size / 1024:.1f} KiB): "
                     + ", ".join(p.name for p in files.values())), highlight=False)


cache_app = typer.Typer(help="The prediction cache (model outputs reused by `xrobust run`).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")
_CACHE_DIR_OPTION = typer.Option(None, "--cache-dir", envvar="XROBUST_PREDICTION_CACHE_DIR",
                                 help="Directory of the prediction cache; default $XROBUST_PREDICTION_CACHE_DIR, "
                                 "$XROBUST_CACHE_DIR or the user cache dir.")


def _existing_cache(cache_dir: Optional[Path], absent: str):
    """The prediction cache in `cache_dir` (default location when None), or None after saying `absent`."""
    from .cache import CACHE_FILE, default_cache_dir, open_cache

    path = (cache_dir if cache_dir is not None else default_cache_dir()) / CACHE_FILE
    if not path.exists():
        out.print(f"{path}: {absent}", highlight=False)
        return None
    return open_cache(path.parent)


@cache_app.command("info")
def cache_info(cache_dir: Optional[Path] = _CACHE_DIR_OPTION) -> None:
    """Where the prediction cache is, how many outputs and checkpoints it holds, and its size on disk."""
    cache = _existing_cache(cache_dir, "no prediction cache yet (xrobust run creates it)")
    if cache is None:
        return
    facts = cache.info()
    out.print(f"{cache.path}\n{facts['outputs']:,} model outputs, {facts['checkpoints']:,} checkpoint fingerprints "
              f"remembered, {facts['bytes'] / 1e6:,.1f} MB on disk (it never shrinks on its own: "
              "`xrobust cache clear`)", highlight=False)


@cache_app.command("clear")
def cache_clear(cache_dir: Optional[Path] = _CACHE_DIR_OPTION) -> None:
    """Delete every cached model output (the next run recomputes them) and give the space back."""
    cache = _existing_cache(cache_dir, "no prediction cache, nothing to clear")
    if cache is None:
        return
    n = cache.info()["outputs"]
    freed = cache.clear()
    out.print(f"{cache.path}: deleted {n:,} model outputs, freed {freed / 1e6:,.1f} MB", highlight=False)


@app.command("slice")
def slice_(
    run_dir: Path = typer.Argument(..., help="A run directory (from `xrobust run`)."),
    by: str = typer.Option(..., "--by", help="length (sub-token count buckets of the clean input) | label (gold "
                           "label) | cmi (code-mixing index buckets)"),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task (default: every task)."),
    metric: Optional[str] = typer.Option(None, "--metric", help="score (mean per-example score), a metric of the "
                                         "run equal to it (accuracy, f1), or macro_f1 (default: the primary metric "
                                         "when it can be recomputed per slice, else score)."),
    bins: int = typer.Option(4, "--bins", help="Equal-count buckets for length and cmi (ties share a bucket)."),
    lang: Optional[List[str]] = typer.Option(None, "--lang", "-l", help="Only these languages (repeatable)."),
    perturbation: Optional[str] = typer.Option(None, "--perturbation", "-p", help="Only this perturbation id."),
    severity: Optional[float] = typer.Option(None, "--severity", help="Only this severity."),
    samples: int = typer.Option(1000, "--samples", help="Bootstrap resamples for the drop's CI."),
    fmt: str = typer.Option("md", "--format", help="md | csv | json"),
) -> None:
    """Clean vs perturbed score per slice of the examples of each task and language, pooled over the selected
    perturbed cells, with the drop's paired bootstrap 95% CI (examples resampled; harness.stats
    paired_bootstrap_sums on per-example statistics). Exit 2 when the run lacks what the slice needs."""
    from tabulate import tabulate

    from .aggregate import slice_table
    from .report import format_ci, format_drop, format_value, read_run

    if fmt not in ("md", "csv", "json"):
        raise ConfigError(f"--format must be md, csv or json, got {fmt!r}")
    if samples < 100:
        raise ConfigError(f"--samples must be >= 100, got {samples}")
    manifest, rows, records = read_run(run_dir)
    stats = ((manifest.get("suite") or {}).get("content") or {}).get("stats") or {}
    table = slice_table(records, rows, by, task=task, metric=metric, bins=bins, langs=lang or (),
                        perturbation=perturbation, severity=severity, seed=int(manifest.get("seed") or 0),
                        samples=samples, confidence=float(stats.get("confidence", 0.95)))
    if fmt == "csv":
        sys.stdout.write(table.to_csv(index=False))
        return
    if fmt == "json":
        sys.stdout.write(json.dumps(table.to_dict(orient="records"), ensure_ascii=False, indent=1) + "\n")
        return
    where = [f"{perturbation or 'every perturbation'}", "every severity" if severity is None else f"severity {severity:g}"]
    sys.stdout.write(f"Slices by {by} (pooled over {', '.join(where)}; scores in %, drop in pp, positive = worse; "
                     f"95% CI: paired bootstrap over examples, {samples} resamples)\n\n")
    headers = ["task", "lang", by, "metric", "n", "pairs", "clean %", "perturbed %", "drop", "drop 95% CI"]
    body = [[r.task, r.lang, r.slice, r.metric, r.n, r.n_pairs, format_value(r.clean), format_value(r.perturbed),
             format_drop(r.drop), format_ci(r.drop_ci_low, r.drop_ci_high)] for r in table.itertuples(index=False)]
    sys.stdout.write(tabulate(body, headers=headers, tablefmt="github", disable_numparse=True,
                              colalign=("left",) * 4 + ("right",) * 6) + "\n")


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: run the CLI and map every outcome to an exit code (0 ok, 1 gate, 2 usage, 3 internal,
    130 interrupted)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        code = app(args=argv, standalone_mode=False)
        if code == EXIT_INTERRUPTED:  # typer turns a Ctrl-C outside a run's units (loading, reports) into 130
            err.print("interrupted")
    except click.exceptions.ClickException as exc:
        exc.show()
        code = EXIT_USAGE
    except click.exceptions.Abort:
        err.print("aborted")
        code = EXIT_INTERRUPTED
    except Interrupted as exc:
        err.print(escape(str(exc)), highlight=False, soft_wrap=True)
        code = exc.exit_code
    except HarnessError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        code = exc.exit_code
    except KeyboardInterrupt:  # before or after typer's own handling
        err.print("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as exc:  # a bug in xrobust: say so, keep the traceback available
        if os.environ.get("XROBUST_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
                  "This is a bug in xrobust; re-run with XROBUST_DEBUG=1 for the traceback and report it.")
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
