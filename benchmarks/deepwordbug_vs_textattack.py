"""Our DeepWordBug (`attack.deepwordbug.v1`) vs TextAttack's DeepWordBugGao2018 recipe, same checkpoint and examples.

    .venv-textattack/bin/python benchmarks/deepwordbug_vs_textattack.py            # 200 XNLI en examples
    .venv-textattack/bin/python benchmarks/deepwordbug_vs_textattack.py --n 10     # quick check

Runs in the textattack venv (`.ci/textattack` builds it: xrobust editable, textattack 0.3.11, transformers 4.57).
Checkpoint: the demo model (`harness.modelbuild.ensure_demo_model()`: a small XLM-R-architecture XNLI classifier,
hidden 128, cached under $XROBUST_CACHE_DIR or the user cache dir; this venv builds its own copy once, ~2 min
under load: the copy saved by transformers 5 does not load in 4.57). An XLM-R-base-sized model is out of reach for
TextAttack here: its HuggingFaceModelWrapper pads every query to 512 tokens (18.4 s per example on this
2-core VM). Examples: the first --n premise/hypothesis pairs of /work/shared/data/xtreme_r/xnli/en.jsonl, both
fields attacked, gold labels as the checkpoint's label names.

Settings, chosen so that both attacks search the same space:
  TextAttack  DeepWordBugGao2018.build(HuggingFaceModelWrapper(model, tokenizer)) as published: one candidate
              each from neighbouring-character swap, random substitution, deletion and insertion; greedy search
              over words ranked by <unk> replacement ("unk" WIR); constraints RepeatModification,
              StopwordModification (NLTK English list: the bridge supplies attacks/resources/textattack/english),
              LevenshteinEditDistance(30) over the whole text; untargeted classification goal.
  ours        attack.deepwordbug.v1 at severity 1.0 (no share-of-words cap, as TextAttack has none): the same four
              operations, one candidate each (candidates=4), greedy search by <unk> importance, one edit per word
              (max_word_distance 2 per word; TextAttack's whole-text distance of 30 allows 15-30 edited words,
              more than any attack here edits), stopwords = the same English list TextAttack uses, numbers
              editable (protect_numbers=False; TextAttack does not protect them), seed 0.
  both        the same query budget per example (--query-budget, default 500 distinct model inputs, clean input
              included: TextAttack's `query_budget`, our `max_queries`), torch float32 on the same CPU threads.
Wall time covers the attack only (model loading and TextAttack's import come before the clock starts).
Success rate = succeeded / (succeeded + failed); mean queries over attacked (not skipped) examples; accuracy
under attack = examples whose prediction is still right after the attack / all examples.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path("/work/shared/data/xtreme_r/xnli/en.jsonl")
FIELDS = ("premise", "hypothesis")
AID = "attack.deepwordbug.v1"


def ours(model_dir: Path, examples: list, budget: int, seed: int) -> tuple[float, list[str], list[int], list[int]]:
    """Wall s, outcomes, queries and edited words of our DeepWordBug through the library."""
    from attacks.textattack_bridge.bridge import STOPWORDS_FILE
    from harness.attack import make_attack
    from harness.predictor import HFPredictor
    from harness.tasks import get_recipe, make_adapter
    from harness.types import Cell

    predictor = HFPredictor(str(model_dir))
    adapter = make_adapter(get_recipe("xnli"), predictor, {}, where="xnli")
    stop = tuple(STOPWORDS_FILE.read_text(encoding="utf-8").split())
    attack = make_attack(AID, {"candidates": 4, "max_queries": budget, "stopwords": stop, "protect_numbers": False})
    start = time.perf_counter()
    run = attack.run(adapter, predictor, examples, Cell("xnli", "en", AID, 1.0, seed), FIELDS)
    wall = time.perf_counter() - start
    return wall, [o.status for o in run.outcomes], [o.queries for o in run.outcomes], [o.n_edited for o in run.outcomes]


def textattack(model_dir: Path, examples: list, budget: int, seed: int) -> tuple[float, list[str], list[int], list[int]]:
    """Wall s, outcomes, queries and edited words of TextAttack's recipe through our bridge."""
    import transformers

    from attacks.textattack_bridge.bridge import _import_textattack, attack_with_model

    ta = _import_textattack()  # its ~7 s import stays outside the clock
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(model_dir)).to(ta.shared.utils.device)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    start = time.perf_counter()
    res = attack_with_model("textattack.deepwordbug.v1", model, tokenizer, examples, FIELDS, query_budget=budget,
                            seed=seed)
    wall = time.perf_counter() - start
    return wall, [r.outcome for r in res], [r.queries for r in res], [r.words_changed for r in res]


def row(name: str, n: int, wall: float, outcomes: list[str], queries: list[int], edited: list[int]) -> tuple[str, float]:
    """One markdown table row."""
    won = [i for i, o in enumerate(outcomes) if o == "succeeded"]
    attacked = [i for i, o in enumerate(outcomes) if o != "skipped"]
    failed = sum(o == "failed" for o in outcomes)
    rate = len(won) / len(attacked) if attacked else float("nan")
    mq = sum(queries[i] for i in attacked) / len(attacked) if attacked else float("nan")
    me = sum(edited[i] for i in won) / len(won) if won else float("nan")
    return (f"| {name} | {wall:.1f} | {n / wall:.2f} | {100 * rate:.1f}% ({len(won)}/{len(attacked)}) | {mq:.1f} "
            f"| {100 * failed / n:.1f}% | {me:.2f} |"), rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="XNLI en examples (first n of the file)")
    ap.add_argument("--query-budget", type=int, default=500, help="model inputs per example, for both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", type=Path, help="checkpoint dir (default: ensure_demo_model())")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    from harness.data import load_examples
    from harness.modelbuild import ensure_demo_model
    from harness.suite import DataSpec
    from harness.tasks import get_recipe

    model_dir = args.model or ensure_demo_model()
    examples = load_examples(get_recipe("xnli"), DataSpec(format="jsonl", path=str(DATA)), "en", limit=args.n)
    results = {}
    for name, fn in (("ours: `attack.deepwordbug.v1`", ours), ("TextAttack `DeepWordBugGao2018`", textattack)):
        results[name] = fn(model_dir, examples, args.query_budget, args.seed)
        print(f"{name}: {results[name][0]:.1f} s", file=sys.stderr, flush=True)
    print(f"checkpoint: demo model {model_dir.name} (small XLM-R-architecture XNLI classifier); {len(examples)} "
          f"XNLI en examples, premise+hypothesis; query budget {args.query_budget}/example; seed {args.seed}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| contender | wall s | examples/s | success rate | mean queries | accuracy under attack "
          "| mean words edited (succeeded) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rates = []
    for name, (wall, outcomes, queries, edited) in results.items():
        line, rate = row(name, len(examples), wall, outcomes, queries, edited)
        rates.append(rate)
        print(line)
    (w_ours, *_), (w_ta, *_) = results.values()
    print(f"\nTextAttack wall time / ours: {w_ta / w_ours:.1f}x (target >= 5x); success rate ours - TextAttack: "
          f"{100 * (rates[0] - rates[1]):+.1f} points (target >= -2)")


if __name__ == "__main__":
    main()
