"""Perturbation speed: xrobust's grapheme-safe perturbations vs nlpaug on the same sentences.

    python benchmarks/perturb_speed.py                      # en + hi, 10,000 sentences, severity 0.3
    python benchmarks/perturb_speed.py --langs en --n 2000

The XNLI premises of each language (../shared/data/xtreme_r/xnli/<lang>.jsonl, cycled to --n
sentences) go through, at the same severity:
  ours      char.keyboard.v1, char.insert.v1, char.substitute.v1 — one `derive_rng` + `perturb` per
            sentence, exactly as the runner calls them;
  nlpaug    KeyboardAug, RandomCharAug(insert), RandomCharAug(substitute), configured as in
            attacks/nlpaug_engine (tokenizer=str.split, reverse_tokenizer=" ".join, aug_word_p=severity,
            no word cap, one character per word, our keyboard map / the script's alphabet), seeded once;
  wrapper   nlpaug.keyboard.v1 / nlpaug.random_char.v1: nlpaug behind our contract (safe-token
            filter, per-sentence seeding of the global RNGs with save/restore, splicing).
Timing interleaves the contenders of a language chunk by chunk (1,000 sentences) for --repeats rounds
and keeps each contender's best CPU time per chunk, so load from other processes on a shared machine
hits every contender alike; "× nlpaug" is ours (or the wrapper) / nlpaug's sentences/s for the same
kind of edit. Each round uses a new seed for our perturbations (nlpaug's global RNG just goes on), so
no timed pass replays edits that an earlier pass made (and cached). Edit rate and applied share are
measured on the first 1,000 outputs, outside the timing.

The share of a suite's time spent perturbing is benchmarks/perturb_share.py.
Numbers depend on the machine and its load: compare ratios from the same run only.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "xtreme_r" / "xnli"
sys.path.insert(0, str(REPO))

CHUNK = 1000  # sentences per timed pass
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


def ours_fn(pid: str, params: dict, lang: str, sev: float):
    from harness.perturbation import make_perturbation
    from harness.rng import derive_rng

    p = make_perturbation(pid, params)

    def one(i: int, text: str, seed: int = 0) -> str:
        return p.perturb(text, sev, derive_rng(seed, p.id, sev, f"bench-{i}", "text"), lang).text
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

    def one(i: int, text: str, seed: int = 0) -> str:  # seeded once, above
        return aug.augment(text)[0]
    return one


def timed_pass(run: Callable[[], object]) -> float:
    """CPU seconds of this thread for `run()`: time the scheduler gives to other processes on a
    shared machine is not counted (on an idle machine it equals wall time)."""
    t0 = time.thread_time()
    run()
    return time.thread_time() - t0


def quality(name: str, fn, texts: list[str]) -> dict:
    """Edit rate and applied share on the first 1,000 outputs (also the warm-up), untimed."""
    from harness.text import grapheme_edit_rate

    sample = texts[:1000]
    outs = [fn(i, t) for i, t in enumerate(sample)]
    rates = [grapheme_edit_rate(t, o) for t, o in zip(sample, outs)]
    return {"name": name, "edit_rate": statistics.fmean(rates),
            "changed": sum(o != t for t, o in zip(sample, outs)) / len(sample)}


def speed_part(langs: list[str], n: int, sev: float, repeats: int) -> list[dict]:
    """Per language, the sentences are cut into chunks of CHUNK; in each of `repeats` rounds every
    contender of every pair perturbs each chunk in turn. A contender's time is the sum over chunks of
    its best time for that chunk; sentences/s is n / that. Interleaving this finely keeps a burst of
    load on a shared machine from landing on one contender only."""
    results = []
    for lang in langs:
        texts = premises(lang, n)
        rows, fns = [], []
        for ours, kind, wrapper, params in PAIRS:
            for name, fn in ((ours, ours_fn(ours, {}, lang, sev)),
                             (wrapper + "".join(f" {k}={v}" for k, v in params.items()), ours_fn(wrapper, params, lang, sev)),
                             (f"nlpaug {kind}", nlpaug_fn(kind, lang, sev, texts))):
                row = quality(name, fn, texts)
                row.update(lang=lang, pair=ours)
                rows.append(row)
                fns.append(fn)
        chunks = [range(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
        best = [[float("inf")] * len(chunks) for _ in rows]
        for seed in range(1, repeats + 1):  # a new seed per round: no round replays an earlier one
            for c, idx in enumerate(chunks):
                for r, fn in enumerate(fns):
                    best[r][c] = min(best[r][c], timed_pass(lambda: [fn(i, texts[i], seed) for i in idx]))
        for row, times in zip(rows, best):
            row["sps"] = n / sum(times)
        for j in range(0, len(rows), 3):  # ours, wrapper, nlpaug of one pair
            ref = rows[j + 2]["sps"]
            for row in rows[j:j + 3]:
                row["ratio"] = row["sps"] / ref
        results += rows
    return results


def print_speed(results: list[dict], n: int, sev: float) -> None:
    print(f"\n### Perturbation speed: {n:,} XNLI premises per language, severity {sev}\n")
    print("| lang | perturbation | sentences/s | × nlpaug | changed | mean edit rate |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['lang']} | {r['name']} | {r['sps']:,.0f} | {r['ratio']:.2f} | {r['changed']:.0%} | {r['edit_rate']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="sentences per language")
    ap.add_argument("--severity", type=float, default=0.3)
    ap.add_argument("--langs", default="en,hi", help="comma list (XNLI languages in ../shared)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import platform

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    print_speed(speed_part(langs, args.n, args.severity, args.repeats), args.n, args.severity)


if __name__ == "__main__":
    main()
