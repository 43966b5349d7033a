"""Which scripts nlpaug can edit without splitting grapheme clusters (the basis of SAFE_SCRIPTS in
attacks/nlpaug_engine/_engine.py).

    python benchmarks/nlpaug_safety.py [--n 200]

For each XNLI demo language (and the golden inputs' other languages), nlpaug's KeyboardAug and
RandomCharAug run *raw* — configured as in attacks/nlpaug_engine (str.split tokens, the script's
keyboard map / alphabet, aug_word_p=0.3) but without our token filter — on up to N sentences. We count
texts where nlpaug edited a word holding a multi-code-point grapheme cluster or a Thai/Lao vowel letter
(an edit inside or beside a cluster: "cluster words edited"), and outputs that are ill-formed (more
detached marks or dangling vowel letters than the input) or not NFC-stable. Beside them: the share of
whitespace tokens our filter (`token_status`) lets nlpaug edit.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()

    from attacks.char._alphabet import alphabet
    from attacks.char._keyboards import layout_for
    from attacks.nlpaug_engine._engine import keyboard_model, nlpaug_char, seeded_global_rng, token_status
    from harness.calibrate import sample_texts
    from harness.text import SCRIPTS, dominant_script, ill_formed, nfc

    nac = nlpaug_char()
    langs = sorted(p.stem for p in (REPO / "harness" / "demo_data" / "xnli").glob("*.jsonl"))
    golden = json.loads((REPO / "tests" / "golden" / "inputs.json").read_text(encoding="utf-8"))
    langs += [g["lang"] for g in golden if g["lang"] not in langs]
    every = frozenset(SCRIPTS)
    print("| lang | script | texts | KeyboardAug: cluster words edited / ill-formed | "
          "RandomCharAug(swap): cluster words edited / ill-formed | tokens safe for nlpaug |")
    print("|---|---|---|---|---|---|")
    for lang in langs:
        texts, _ = sample_texts(lang, args.n)
        script = dominant_script(" ".join(texts))
        layout = layout_for(lang, script)
        kb = None
        if layout is not None:
            name, path = keyboard_model(layout)
            kb = nac.KeyboardAug(model_path=path, tokenizer=str.split, reverse_tokenizer=" ".join, aug_word_p=0.3,
                                 aug_word_max=None, aug_char_min=1, aug_char_max=1)
        pool = alphabet(lang, script, " ".join(texts)).pool
        rc = nac.RandomCharAug(action="swap", candidates=list(pool) or ["a"], tokenizer=str.split,
                               reverse_tokenizer=" ".join, aug_word_p=0.3, aug_word_max=None, aug_char_min=1,
                               aug_char_max=1)
        touched = {"kb": 0, "rc": 0}
        broken = {"kb": 0, "rc": 0}
        for i, t in enumerate(texts):
            for key, aug in (("kb", kb), ("rc", rc)):
                if aug is None:
                    continue
                with seeded_global_rng(i):
                    out = aug.augment(t)[0]
                changed = [a for a, b in zip(t.split(), out.split(" ")) if a != b]
                touched[key] += any(token_status(a, every) == "cluster" for a in changed)
                broken[key] += nfc(out) != out or ill_formed(out) > ill_formed(t)
        tokens = [tok for t in texts for tok in t.split()]
        safe = sum(token_status(tok, every) == "ok" for tok in tokens)
        n = len(texts)
        kb_cell = f"{touched['kb'] / n:.0%} / {broken['kb'] / n:.0%}" if kb is not None else "no layout"
        print(f"| {lang} | {script} | {n} | {kb_cell} | {touched['rc'] / n:.0%} / {broken['rc'] / n:.0%} "
              f"| {safe / max(1, len(tokens)):.0%} |")


if __name__ == "__main__":
    main()
