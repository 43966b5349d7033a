"""Harness end to end vs a hand-written raw batched forward loop over the same unique inputs.

    python benchmarks/harness_vs_raw.py                       # XLM-R-base-shaped model, bf16, 4 languages x 40
    python benchmarks/harness_vs_raw.py --dtype float32 --langs en,hi --limit 10 --repeats 1

The model is an XLM-R-base-shaped XNLI classifier with random weights (12 layers, hidden 768, 12 heads,
FFN 3072, vocabulary 250,002: 278M parameters, 1.1 GB), built once into the xrobust cache dir with the
demo model's SentencePiece tokenizer (no hub access). Random weights cost the same per token as trained ones.

  harness  `run_suite` on suites/demo.yaml's 13 cells (6 perturbations x 2 severities + clean) for --langs
           (default en, ar, hi, zh: four scripts) and --limit examples per language, with the model already
           loaded and a cold prediction cache: perturbation, tokenisation,
           deduplication, cache look-ups and writes, length-sorted batches, statistics, bootstrap, reports.
  raw      the unique (premise, hypothesis) inputs the harness sent to the model, in a loop written by
           hand: tokenizer (truncation at 256), sort by length, `tokenizer.pad` per batch, model forward
           under `torch.inference_mode()` (and bf16 autocast when --dtype bfloat16), logits to numpy.
Throughput is unique inputs per second; ratio = harness / raw (target >= 0.95). Model loading is
excluded from both (printed separately). The two are interleaved --repeats times and each keeps its best
time, so load from other processes hits both alike. Numbers depend on the machine: compare ratios only.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEMO_SUITE = REPO / "suites" / "demo.yaml"
DEFAULT_LANGS = "en,ar,hi,zh"
BASE_DIR_NAME = "bench-xlmr-base-random-v1"


def base_model_dir() -> Path:
    """The XLM-R-base-shaped random-weights XNLI classifier, built once (temp dir + rename) in the cache dir."""
    import torch
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    from harness.modelbuild import NLI_LABELS, cache_root, ensure_demo_model

    final = cache_root() / BASE_DIR_NAME
    if (final / "model.safetensors").is_file():
        return final
    tokenizer = AutoTokenizer.from_pretrained(str(ensure_demo_model()))
    labels = dict(enumerate(NLI_LABELS))
    config = XLMRobertaConfig(
        vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, id2label=labels,
        label2id={n: i for i, n in labels.items()},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = XLMRobertaForSequenceClassification(config)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-bench-", dir=final.parent))
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    os.replace(tmp, final)
    return final


def model_size_bytes(model_dir: Path) -> int:
    """Bytes of the checkpoint's weight files."""
    return sum(p.stat().st_size for p in Path(model_dir).glob("*.safetensors"))


def demo_suite(langs: str, out_dir: Path) -> Path:
    """suites/demo.yaml for a comma list of its languages ("all": every one), written to `out_dir`."""
    import yaml

    spec = yaml.safe_load(DEMO_SUITE.read_text(encoding="utf-8"))
    task = spec["tasks"][0]
    task["data"]["path"] = str((DEMO_SUITE.parent / task["data"]["path"]).resolve())
    if langs != "all":
        task["languages"] = langs.split(",")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "suite.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def run_harness(pred, suite: Path, limit: int, captured: list | None = None) -> tuple[float, float, int]:
    """Wall and CPU seconds of one `run_suite` (cold prediction cache), and the model inputs it computed."""
    from harness.cache import PredictionCache
    from harness.runner import RunOptions, run_suite
    from harness.suite import load_suite

    tmp = Path(tempfile.mkdtemp(prefix="xrobust-bench-"))
    try:
        pred.cache, pred.calls = PredictionCache(tmp / "cache" / "predictions.sqlite"), 0
        original = pred.predict
        if captured is not None:  # record what the adapter asks for, outside the timed region's logic
            def spy(inputs, progress=None):
                captured.extend(inputs)
                return original(inputs, progress)
            pred.predict = spy
        loaded = load_suite(suite)
        start, cpu = time.perf_counter(), time.process_time()
        run_suite(loaded, lambda task, head: pred, RunOptions(out=tmp / "run", limit=limit))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        pred.predict = original
        pred.cache.close()
        return seconds, cpu, pred.calls
    finally:
        pred.cache = None
        shutil.rmtree(tmp, ignore_errors=True)


def run_raw(model, tokenizer, texts: list[tuple[str, str]], batch_size: int, dtype, max_length: int):
    """Wall and CPU seconds of the hand-written loop over `texts`, and its logits (input order)."""
    import numpy as np
    import torch

    start, cpu = time.perf_counter(), time.process_time()
    ids = tokenizer([a for a, _ in texts], [b for _, b in texts], truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    logits = np.empty((len(ids), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
            logits[idx] = model(**batch).logits.float().numpy()
    return time.perf_counter() - start, time.process_time() - cpu, logits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="checkpoint dir (default: the XLM-R-base-shaped random model)")
    ap.add_argument("--langs", default=DEFAULT_LANGS, help="comma list of demo.yaml languages, or all (15)")
    ap.add_argument("--limit", type=int, default=40, help="examples per language (x 13 cells)")
    ap.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16"))
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    import torch

    from harness.predictor import HFPredictor

    torch.set_num_threads(os.cpu_count() or 1)
    model_dir = args.model or base_model_dir()
    t0 = time.perf_counter()
    pred = HFPredictor(str(model_dir), dtype=args.dtype, batch_size=args.batch_size)
    load_s = time.perf_counter() - t0
    dtype = getattr(torch, args.dtype)
    captured: list[tuple[str, ...]] = []
    suite = demo_suite(args.langs, Path(tempfile.mkdtemp(prefix="xrobust-bench-suite-")))
    run_harness(pred, suite, args.limit, captured)  # warm-up; learns the unique inputs the harness computes
    texts = list(dict.fromkeys(captured))
    harness_s, raw_s = [], []  # (wall, cpu) per run
    for _ in range(args.repeats):
        raw_wall, raw_cpu, raw_logits = run_raw(pred.model, pred.tokenizer, texts, args.batch_size, dtype,
                                                pred.max_length)
        raw_s.append((raw_wall, raw_cpu))
        wall, cpu, calls = run_harness(pred, suite, args.limit)
        assert calls == len(texts), (calls, len(texts))  # the same unique inputs on both sides
        harness_s.append((wall, cpu))
    ours = pred.predict(texts[:256])
    agree = float((ours.argmax(-1) == raw_logits[:256].argmax(-1)).mean())
    n = len(texts)
    h, r = min(harness_s), min(raw_s)  # best wall time, with its CPU time
    print(f"model: {model_dir.name} ({sum(p.numel() for p in pred.model.parameters()) / 1e6:.0f}M parameters, "
          f"{model_size_bytes(model_dir) / 1e9:.2f} GB), dtype {args.dtype}, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads; load + fingerprint {load_s:.1f} s (excluded)")
    print(f"suite: demo.yaml cells, languages {args.langs} x 13 cells x {args.limit} examples -> {n} unique model inputs; "
          f"best of {args.repeats}, interleaved; argmax agreement raw vs harness on 256 inputs: {agree:.3f}\n")
    print("| contender | wall s (each run) | best wall s | unique inputs/s | × raw (wall) | CPU s of best | × raw (CPU) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, runs, best in (("raw loop (tokenize, sort, pad, forward)", raw_s, r),
                             ("harness run_suite (end to end)", harness_s, h)):
        print(f"| {name} | {', '.join(f'{w:.1f}' for w, _ in runs)} | {best[0]:.1f} | {n / best[0]:.1f} | "
              f"{r[0] / best[0]:.2f} | {best[1]:.1f} | {r[1] / best[1]:.2f} |")


if __name__ == "__main__":
    main()
