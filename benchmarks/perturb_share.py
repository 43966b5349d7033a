"""Share of a suite's wall time spent perturbing, measured with an XLM-R-base-sized model on this CPU.

    python benchmarks/perturb_share.py                    # en + hi, 100 XNLI examples each (~3 min idle)
    python benchmarks/perturb_share.py --n 50 --langs hi

A suite-like run, measured in its two parts:
  perturbation  the six perturbations of suites/demo.yaml at its two severities each, on the first
                --n XNLI examples per language (../shared/data/xtreme_r/xnli/<lang>.jsonl), both
                fields, through `harness.tasks.base.perturb_text_fields` as the task adapters call it
                (per-example, per-field RNG; the variant's edit rate over both fields);
  prediction    the clean and every perturbed variant of a language in one `HFPredictor.predict`
                call, as the classification adapter makes it (identical inputs run once, sorted by
                token length, batches of --batch-size with dynamic padding, fp32, CPU).
The model has XLM-R base's shape (hidden 768, 12 layers, 12 heads, feed-forward 3072, vocabulary
--vocab = 250,002) with random weights: the forward pass costs the same whatever the weights. The
tokenizer is a SentencePiece unigram trained here (harness.modelbuild.train_tokenizer) on the XNLI
premises and hypotheses of the languages measured, so it cuts them into few pieces: the token counts
(printed) are, if anything, below XLM-R's, which makes the prediction time low and the
perturbation share high. Model building is not timed. Loading data, statistics and writing a run
would add to the total: the share below is of perturbation + prediction only, an upper bound.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "xtreme_r" / "xnli"
sys.path.insert(0, str(REPO))

FIELDS = ("premise", "hypothesis")


def load_examples(lang: str, n: int | None):
    from harness.text import nfc
    from harness.types import Example

    rows = [json.loads(line) for line in (SHARED / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = rows if n is None else rows[:n]
    return [Example(str(r["id"]), lang, {f: nfc(r[f]) for f in FIELDS}, str(r["label"])) for r in rows]


def build_model(out: Path, langs: list[str], vocab: int, tok_vocab: int) -> Path:
    """Tokenizer trained on the languages' XNLI text, XLM-R base-shaped classifier with random weights."""
    import torch
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    from harness.modelbuild import NLI_LABELS, train_tokenizer

    texts = [ex.fields[f] for lang in langs for ex in load_examples(lang, None) for f in FIELDS]
    tok_dir = train_tokenizer(texts, out / "tokenizer", vocab_size=tok_vocab)
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    config = XLMRobertaConfig(
        vocab_size=max(vocab, len(tokenizer)), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        id2label=dict(enumerate(NLI_LABELS)), label2id={name: i for i, name in enumerate(NLI_LABELS)},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = XLMRobertaForSequenceClassification(config)
    model_dir = out / "model"
    model.save_pretrained(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    return model_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="XNLI examples per language")
    ap.add_argument("--langs", default="en,hi")
    ap.add_argument("--suite", type=Path, default=REPO / "suites" / "demo.yaml", help="perturbations and severities")
    ap.add_argument("--vocab", type=int, default=250_002, help="model vocabulary (XLM-R: 250,002)")
    ap.add_argument("--tok-vocab", type=int, default=32_000, help="SentencePiece vocabulary to train (a soft limit)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=256)
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from transformers.utils import logging as hf_logging

    from harness.perturbation import make_perturbation
    from harness.predictor import HFPredictor
    from harness.suite import load_suite
    from harness.tasks.base import perturb_text_fields
    from harness.types import Cell, Variant

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    specs = load_suite(args.suite, check_files=False).suite.perturbations
    perts = [(make_perturbation(s.id, s.params), sev) for s in specs for sev in s.severities]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="xrobust-share-") as tmp:
        t0 = time.perf_counter()
        model_dir = build_model(Path(tmp), langs, args.vocab, args.tok_vocab)
        predictor = HFPredictor(str(model_dir), device="cpu", dtype="float32", batch_size=args.batch_size,
                                max_length=args.max_length)
        n_params = sum(p.numel() for p in predictor.model.parameters())
        print(f"model: {n_params / 1e6:.0f}M parameters, vocabulary {predictor.model.config.vocab_size:,}, "
              f"tokenizer {len(predictor.tokenizer):,} pieces; built and loaded in {time.perf_counter() - t0:.0f} s (untimed)")

        rows = []
        for lang in langs:
            examples = load_examples(lang, args.n)
            # perturbation: every cell, as the runner's _run_unit does it
            groups: list[list[Variant]] = [[Variant(ex, ex.fields, False, 0.0, 0) for ex in examples]]
            wall0, cpu0 = time.perf_counter(), time.thread_time()
            for pert, sev in perts:
                cell = Cell("xnli", lang, pert.id, sev, 0)
                groups.append([perturb_text_fields(ex, pert, cell, FIELDS) for ex in examples])
            perturb_wall, perturb_cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
            # prediction: one call over every variant, as ClassificationAdapter.predict makes it
            inputs = [tuple(v.fields[f] for f in FIELDS) for g in groups for v in g]
            unique = list(dict.fromkeys(inputs))
            lengths = [len(ids) for ids in predictor._encode(unique)["input_ids"]]
            calls0 = predictor.calls
            wall0, cpu0 = time.perf_counter(), time.process_time()
            predictor.predict(inputs)
            predict_wall, predict_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            n_perturbed = sum(len(g) for g in groups[1:])
            rows.append({"lang": lang, "perturb": perturb_wall, "perturb_cpu": perturb_cpu, "predict": predict_wall,
                         "predict_cpu": predict_cpu,
                         "records": n_perturbed, "model_inputs": predictor.calls - calls0,
                         "tokens": statistics.fmean(lengths)})
            print(f"{lang}: perturbation {perturb_wall:.2f} s, prediction {predict_wall:.1f} s "
                  f"({rows[-1]['model_inputs']} inputs, load average {os.getloadavg()[0]:.1f})", flush=True)

    print(f"\n### Share of perturbation in a suite-like run ({len(perts)} perturbation cells from "
          f"{args.suite.name}, {args.n} XNLI examples per language, XLM-R base shape, fp32, CPU)\n")
    print("| lang | perturbed records | perturbation s (CPU s) | µs per record | model inputs | mean tokens | "
          "prediction s (CPU s) | inputs/s | share of wall time | share of CPU time |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = ("perturb", "perturb_cpu", "predict", "predict_cpu", "records", "model_inputs")
    for r in rows + [{"lang": "all", **{k: sum(x[k] for x in rows) for k in keys},
                      "tokens": statistics.fmean(x["tokens"] for x in rows)}]:
        print(f"| {r['lang']} | {r['records']:,} | {r['perturb']:.2f} ({r['perturb_cpu']:.2f}) | "
              f"{r['perturb'] / r['records'] * 1e6:,.0f} | {r['model_inputs']:,} | {r['tokens']:.0f} | "
              f"{r['predict']:.1f} ({r['predict_cpu']:.1f}) | {r['model_inputs'] / r['predict']:.1f} | "
              f"{r['perturb'] / (r['perturb'] + r['predict']):.2%} | "
              f"{r['perturb_cpu'] / (r['perturb_cpu'] + r['predict_cpu']):.2%} |")
    print("\nA record is one example under one perturbation cell (both fields perturbed). Share of wall time:"
          " perturbation / (perturbation + prediction), in seconds; share of CPU time: the same in CPU"
          " seconds of this process (the model runs on every thread torch has, perturbing on one), which"
          " other processes on a shared machine disturb less.")


if __name__ == "__main__":
    main()
