"""Perturbation speed: xrobust's grapheme-safe perturbations vs nlpaug on the same sentences, and the
share of a suite's wall time spent perturbing.

    python benchmarks/perturb_speed.py                      # en + hi, 10,000 sentences, severity 0.3
    python benchmarks/perturb_speed.py --langs en --n 2000 --no-suite

Part 1 (speed): the XNLI premises of each language (../shared/data/xtreme_r/xnli/<lang>.jsonl,
cycled to --n sentences) go through, at the same severity:
  ours      char.keyboard.v1, char.insert.v1, char.substitute.v1 — one `derive_rng` + `perturb` per
            sentence, exactly as the runner calls them;
  nlpaug    KeyboardAug, RandomCharAug(insert), RandomCharAug(substitute), configured as in
            attacks/nlpaug_engine (tokenizer=str.split, reverse_tokenizer=" ".join, aug_word_p=severity,
            no word cap, one character per word, our keyboard map / the script's alphabet), seeded once;
  wrapper   nlpaug.keyboard.v1 / nlpaug.random_char.v1: nlpaug behind our contract (safe-token
            filter, per-sentence seeding of the global RNGs with save/restore, splicing).
Sentences/s is the best of --repeats timed passes; "× nlpaug" is ours (or the wrapper) / nlpaug's
sentences/s for the same kind of edit. Edit rate and applied share are measured on the first 1,000
outputs, outside the timing.

Part 2 (suite share): suites/demo.yaml (15 languages × 6 perturbations × 2 severities + clean) runs
through `harness.runner.run_suite` on a small XLM-R built with harness.modelbuild (--hidden, --layers),
--suite-limit examples per language; perturbation time (`perturb_example`) and prediction time
(`Predictor.predict`) are measured inside the run against its total wall time.
Numbers depend on the machine and its load: compare ratios from the same run only.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "xtreme_r" / "xnli"
sys.path.insert(0, str(REPO))

PAIRS = (  # (ours, nlpaug kind, wrapper id, wrapper params)
    ("char.keyboard.v1", "KeyboardAug", "nlpaug.keyboard.v1", {}),
    ("char.insert.v1", "RandomCharAug(insert)", "nlpaug.random_char.v1", {"action": "insert"}),
    ("char.substitute.v1", "RandomCharAug(substitute)", "nlpaug.random_char.v1", {"action": "substitute"}),
)


def premises(lang: str, n: int) -> list[str]:
    """The premises of the shared XNLI sample for `lang`, NFC, cycled to `n` sentences."""
    from harness.text import nfc

    path = SHARED / f"{lang}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    base = [nfc(r["premise"]) for r in rows]
    return list(itertools.islice(itertools.cycle(base), n))


def best_rate(run: Callable[[], object], n: int, repeats: int) -> float:
    """Sentences per second: best of `repeats` timed passes over `n` sentences."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return n / best


def ours_fn(pid: str, params: dict, lang: str, sev: float):
    from harness.perturbation import make_perturbation
    from harness.rng import derive_rng

    p = make_perturbation(pid, params)

    def one(i: int, text: str) -> str:
        return p.perturb(text, sev, derive_rng(0, p.id, sev, f"bench-{i}", "text"), lang).text
    return one


def nlpaug_fn(kind: str, lang: str, sev: float, texts: list[str]):
    from attacks.char._alphabet import alphabet
    from attacks.char._keyboards import layout_for
    from attacks.nlpaug_engine._engine import keyboard_model, nlpaug_char
    from harness.text import dominant_script

    nac = nlpaug_char()
    script = dominant_script(" ".join(texts[:200]))
    common = dict(tokenizer=str.split, reverse_tokenizer=" ".join, aug_word_p=sev, aug_word_max=None,
                  aug_char_min=1, aug_char_max=1)
    if kind == "KeyboardAug":
        _, path = keyboard_model(layout_for(lang, script) or "en")
        aug = nac.KeyboardAug(model_path=path, **common)
    else:
        action = kind[kind.index("(") + 1:-1]
        aug = nac.RandomCharAug(action=action, candidates=list(alphabet(lang, script, texts[0]).pool), **common)
    random.seed(0)

    def one(i: int, text: str) -> str:
        return aug.augment(text)[0]
    return one


def measure(name: str, fn, texts: list[str], repeats: int) -> dict:
    from harness.text import grapheme_edit_rate

    sample = texts[:1000]
    outs = [fn(i, t) for i, t in enumerate(sample)]  # warm-up + quality figures, untimed
    rates = [grapheme_edit_rate(t, o) for t, o in zip(sample, outs)]
    speed = best_rate(lambda: [fn(i, t) for i, t in enumerate(texts)], len(texts), repeats)
    return {"name": name, "sps": speed, "edit_rate": statistics.fmean(rates),
            "changed": sum(o != t for t, o in zip(sample, outs)) / len(sample)}


def speed_part(langs: list[str], n: int, sev: float, repeats: int) -> list[dict]:
    results = []
    for lang in langs:
        texts = premises(lang, n)
        for ours, kind, wrapper, params in PAIRS:
            ref = measure(f"nlpaug {kind}", nlpaug_fn(kind, lang, sev, texts), texts, repeats)
            mine = measure(ours, ours_fn(ours, {}, lang, sev), texts, repeats)
            wrap = measure(wrapper + "".join(f" {k}={v}" for k, v in params.items()),
                           ours_fn(wrapper, params, lang, sev), texts, repeats)
            for r in (mine, wrap, ref):
                r.update(lang=lang, ratio=r["sps"] / ref["sps"], pair=ours)
                results.append(r)
    return results


def print_speed(results: list[dict], n: int, sev: float) -> None:
    print(f"\n### Perturbation speed: {n:,} XNLI premises per language, severity {sev}\n")
    print("| lang | perturbation | sentences/s | × nlpaug | changed | mean edit rate |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['lang']} | {r['name']} | {r['sps']:,.0f} | {r['ratio']:.2f} | {r['changed']:.0%} | {r['edit_rate']:.3f} |")


# --------------------------------------------------------------------------- part 2: suite share

def suite_part(suite_path: Path, limit: int, hidden: int, layers: int) -> dict:
    import harness.runner as runner
    from harness.modelbuild import build_classifier, load_nli_pairs, train_tokenizer
    from harness.predictor import HFPredictor
    from harness.suite import load_suite

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tmp = Path(tempfile.mkdtemp(prefix="xrobust-bench-"))
    texts = []
    for f in sorted((REPO / "harness" / "demo_data" / "xnli").glob("*.jsonl")):
        for premise, hypothesis, _ in load_nli_pairs(f, 100):
            texts += [premise, hypothesis]
    tok = train_tokenizer(texts, tmp / "tok", vocab_size=4000)
    model_dir = build_classifier(tmp / "model", tok, ("entailment", "neutral", "contradiction"),
                                 hidden_size=hidden, num_layers=layers, heads=2, seed=0)
    predictor = HFPredictor(str(model_dir), device="cpu", dtype="float32", batch_size=64, max_length=256)
    timers = {"perturb": 0.0, "predict": 0.0}
    original_perturb = runner.perturb_example
    original_predict = predictor.predict

    def timed_perturb(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original_perturb(*args, **kwargs)
        finally:
            timers["perturb"] += time.perf_counter() - t0

    def timed_predict(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original_predict(*args, **kwargs)
        finally:
            timers["predict"] += time.perf_counter() - t0

    runner.perturb_example = timed_perturb
    predictor.predict = timed_predict  # type: ignore[method-assign]
    try:
        loaded = load_suite(suite_path)
        t0 = time.perf_counter()
        result = runner.run_suite(loaded, lambda head: predictor,
                                  runner.RunOptions(out=tmp / "run", limit=limit, run_id="bench"))
        total = time.perf_counter() - t0
    finally:
        runner.perturb_example = original_perturb
    m = result.manifest
    return {"total": total, **timers, "records": m["n_records"], "model_inputs": m["model_calls"],
            "cells": m["n_cells"], "limit": limit, "hidden": hidden, "layers": layers}


def print_suite(s: dict, suite_path: Path) -> None:
    other = s["total"] - s["perturb"] - s["predict"]
    print(f"\n### Share of a suite's wall time spent perturbing ({suite_path.name}, {s['limit']} examples per "
          f"language, XLM-R hidden {s['hidden']} × {s['layers']} layers, CPU)\n")
    print("| part | seconds | share |")
    print("|---|---:|---:|")
    for name, v in (("perturbation (perturb_example)", s["perturb"]), ("prediction (Predictor.predict)", s["predict"]),
                    ("rest (load, stats, bootstrap, writing)", other), ("total run_suite", s["total"])):
        print(f"| {name} | {v:.1f} | {v / s['total']:.1%} |")
    per_record = s["perturb"] / max(1, s["records"]) * 1e6
    print(f"\n{s['cells']} cells, {s['records']:,} records, {s['model_inputs']:,} model inputs; "
          f"perturbation {per_record:.0f} µs per record (both XNLI fields).")
    for label, eps in (("XLM-R base, fp32, 2 CPU threads (~25 inputs/s)", 25.0),
                       ("XLM-R base, bf16, 2 CPU threads (~60 inputs/s)", 60.0)):
        predict = s["model_inputs"] / eps
        share = s["perturb"] / (s["perturb"] + predict + other)
        print(f"Estimate with {label}: prediction {predict:,.0f} s, perturbation share {share:.2%}.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="sentences per language")
    ap.add_argument("--severity", type=float, default=0.3)
    ap.add_argument("--langs", default="en,hi", help="comma list (XNLI languages in ../shared)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--suite", type=Path, default=REPO / "suites" / "demo.yaml")
    ap.add_argument("--suite-limit", type=int, default=100, help="examples per language in the suite part")
    ap.add_argument("--hidden", type=int, default=128, help="hidden size of the suite part's model (demo: 128)")
    ap.add_argument("--layers", type=int, default=2, help="layers of the suite part's model (demo: 2)")
    ap.add_argument("--no-suite", action="store_true", help="skip part 2")
    ap.add_argument("--no-speed", action="store_true", help="skip part 1")
    args = ap.parse_args()

    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import platform

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    if not args.no_speed:
        langs = [x.strip() for x in args.langs.split(",") if x.strip()]
        print_speed(speed_part(langs, args.n, args.severity, args.repeats), args.n, args.severity)
    if not args.no_suite:
        print_suite(suite_part(args.suite, args.suite_limit, args.hidden, args.layers), args.suite)


if __name__ == "__main__":
    main()
