"""Command line: a thin typer shell over the library. Exit codes are mapped only here (`main`)."""
from __future__ import annotations

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

from .errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, ConfigError, HarnessError

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


def _predictor_factory(model: str, device: str, dtype: str, batch_size: int, max_length: int,
                       allow_pickle: bool, trust_remote_code: bool):
    from .predictor import HFPredictor

    cache: dict[str, HFPredictor] = {}

    def get(head: str) -> HFPredictor:
        if head not in cache:
            with err.status(f"loading {model} ({head})"):
                cache[head] = HFPredictor(model, head=head, device=device, dtype=dtype, batch_size=batch_size,
                                          max_length=max_length, allow_pickle=allow_pickle,
                                          trust_remote_code=trust_remote_code)
        return cache[head]
    return get


def _run(suite_path: Path, model: str, out_dir: Optional[Path], limit: Optional[int], device: str, dtype: str,
         batch_size: int, max_length: int, allow_pickle: bool, trust_remote_code: bool, quiet: bool) -> None:
    from .report import console_summary
    from .runner import RunOptions, run_suite
    from .suite import load_suite

    loaded = load_suite(suite_path)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {limit}")
    get = _predictor_factory(model, device, dtype, batch_size, max_length, allow_pickle, trust_remote_code)
    with _progress(quiet) as factory:
        result = run_suite(loaded, get, RunOptions(out=out_dir, limit=limit, progress=factory,
                                                   command=shlex.join(["xrobust", *sys.argv[1:]])))
    for metric in ("accuracy",):
        out.print(console_summary(result.rows, metric=metric), markup=False, highlight=False)
    m = result.manifest
    out.print(f"\n{m['n_cells']} cells, {m['n_records']} records, {m['model_calls']} model inputs, "
              f"{m['wall_seconds']:.1f} s", highlight=False)
    out.print(f"report: {result.files['html']}\nsummary: {result.files['summary']}\n"
              f"rows: {result.files['rows']}", highlight=False)


@app.command()
def run(
    suite: Path = typer.Argument(..., help="Suite YAML file."),
    model: str = typer.Option(..., "--model", "-m", help="Fine-tuned checkpoint: a local directory or a hub id."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run directory (default reports/runs/<run_id>). "
                                           "Re-running with the same --out resumes an interrupted run."),
    limit: Optional[int] = typer.Option(None, help="At most N examples per task and language."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    dtype: str = typer.Option("auto", help="auto | float32 | bfloat16 | float16 (auto: bf16/fp16 on GPU, fp32 on CPU)"),
    batch_size: int = typer.Option(32, help="Inputs per forward pass (results do not depend on it)."),
    max_length: int = typer.Option(256, help="Truncate inputs to this many sub-tokens."),
    allow_pickle: bool = typer.Option(False, help="Allow pickle *.bin weights (loaded with weights_only=True)."),
    trust_remote_code: bool = typer.Option(False, help="Run model code shipped with the checkpoint (only if you trust it)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Run SUITE on one checkpoint and write the run directory (run.json, records, rows, reports)."""
    _run(suite, model, out_dir, limit, device, dtype, batch_size, max_length, allow_pickle, trust_remote_code, quiet)


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
    what: str = typer.Argument(..., help="perturbations | tasks | languages"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """List registered perturbations, tasks or languages."""
    from .languages import LANGUAGES
    from .perturbation import PERTURBATIONS
    from .tasks import TASKS

    if what == "perturbations":
        items = [{"id": pid, "family": cls.family, "scripts": sorted(cls.scripts) if "*" not in cls.scripts else ["*"],
                  "keeps_token_count": cls.keeps_token_count, "description": cls.description}
                 for pid, cls in PERTURBATIONS.items()]
    elif what == "tasks":
        items = [{"id": name, "task_type": r.task_type, "fields": list(r.fields), "labels": list(r.label_names),
                  "languages": list(r.languages), "hf_source": dict(r.hf_source)} for name, r in TASKS.items()]
    elif what == "languages":
        items = [{"id": code, "name": lang.name, "script": lang.script, "family": lang.family, "genus": lang.genus}
                 for code, lang in LANGUAGES.items()]
    else:
        raise ConfigError(f"`xrobust ls` lists perturbations, tasks or languages, not {what!r}")
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
        table.add_row(*[", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in (it[k] for k in keys)])
    out.print(table)


@app.command()
def perturb(
    texts: Optional[List[str]] = typer.Argument(None, help="Text(s) to perturb."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code (chooses keyboard layout, segmentation)."),
    perturbation: str = typer.Option(..., "--perturbation", "-p", help="Registered perturbation id (`xrobust ls perturbations`)."),
    severity: float = typer.Option(0.3, help="Share of eligible words to edit, in [0, 1]."),
    seed: int = typer.Option(0, help="Seed; the same seed gives the same output."),
    file: Optional[Path] = typer.Option(None, "--file", help="A text file, one input per line, instead of TEXTS."),
    fmt: str = typer.Option("table", "--format", help="table | json (one JSON object per line)"),
) -> None:
    """Show original vs perturbed text for one perturbation and severity."""
    from .perturbation import make_perturbation
    from .rng import derive_rng
    from .text import nfc

    lines = list(texts or [])
    if file is not None:
        try:
            lines += [ln.rstrip("\n") for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read ({exc})") from None
    if not lines:
        raise ConfigError("give the text to perturb as an argument or with --file")
    p = make_perturbation(perturbation)
    if not 0.0 <= severity <= 1.0:
        raise ConfigError(f"--severity must be in [0, 1], got {severity}")
    results = []
    for i, text in enumerate(lines):
        res = p.perturb(nfc(text), severity, derive_rng(seed, p.id, severity, f"cli-{i}", "text"), lang)
        results.append({"original": nfc(text), "perturbed": res.text, "applied": res.applied,
                        "edit_rate": round(res.edit_rate, 6), "words_edited": res.n_edited,
                        "eligible_words": res.n_eligible, "reason": res.reason})
    if fmt == "json":
        for r in results:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    if fmt != "table":
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    table = Table(title=f"{p.id} · lang={lang} · severity={severity} · seed={seed}", show_lines=True)
    for col in ("original", "perturbed", "applied", "edit rate", "words"):
        table.add_column(col)
    for r in results:
        table.add_row(r["original"], r["perturbed"], "yes" if r["applied"] else f"no ({r['reason']})",
                      f"{r['edit_rate']:.3f}", f"{r['words_edited']}/{r['eligible_words']}")
    out.print(table)


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
    _run(DEMO_SUITE, str(model_dir), out_dir, limit, "auto", "auto", 64, 256, False, False, quiet)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: run the CLI and map every outcome to an exit code (0 ok, 1 gate, 2 usage, 3 internal)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        code = app(args=argv, standalone_mode=False)
    except click.exceptions.ClickException as exc:
        exc.show()
        code = EXIT_USAGE
    except click.exceptions.Abort:
        err.print("aborted")
        code = 130
    except HarnessError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted; re-run the same command with the same --out to resume")
        code = 130
    except Exception as exc:  # a bug in xrobust: say so, keep the traceback available
        if os.environ.get("XROBUST_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
                  "This is a bug in xrobust; re-run with XROBUST_DEBUG=1 for the traceback and report it.")
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
