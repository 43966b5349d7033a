"""harness.metrics: exact hand-computed values (seqeval IOB2 chunks, XTREME's seqeval-0.0.12 chunks; SQuAD and MLQA
EM/F1, zh and ar included)."""
from __future__ import annotations

import pytest

from harness.errors import DataError
from harness.metrics import (accuracy, entity_f1, entity_scores, exact_match, f1, normalize_answer, qa_scores,
                             token_accuracy, xtreme_chunks)


def test_accuracy_and_token_accuracy():
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "b"]) == 0.5
    # POS: 5 tokens over two sentences, 3 right
    gold = [["NOUN", "VERB", "PUNCT"], ["DET", "NOUN"]]
    pred = [["NOUN", "NOUN", "PUNCT"], ["DET", "ADJ"]]
    assert token_accuracy(gold, pred) == 3 / 5


def test_entity_scores_wrong_type_counts_as_fp_and_fn():
    # gold {PER 0-1, LOC 3}, pred {PER 0-1, ORG 3}: tp 1 of 2 and 2
    s = entity_scores([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])
    assert s == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_entity_f1_partial_span_is_wrong_and_extra_entity_lowers_precision():
    gold = [["B-LOC", "O"], ["B-PER", "I-PER"]]
    assert entity_f1(gold, [["B-LOC", "O"], ["B-PER", "O"]]) == 0.5  # PER 1-1 != PER 0-1
    s = entity_scores(gold, [["B-LOC", "B-MISC"], ["B-PER", "I-PER"]])  # tp 2, pred 3, gold 2
    assert s["precision"] == 2 / 3 and s["recall"] == 1.0 and s["f1"] == pytest.approx(0.8, abs=1e-15)


def test_entity_f1_default_mode_accepts_a_leading_I_tag():
    # seqeval's default (conlleval) mode, as XTREME: I-PER after O opens a PER chunk; strict mode would not
    assert entity_f1([["B-PER", "I-PER", "O"]], [["I-PER", "I-PER", "O"]]) == 1.0
    assert entity_f1([["O", "O"]], [["O", "O"]]) == 0.0  # no entities anywhere: seqeval's 0


def test_xtreme_chunks_of_bare_pos_tags():
    # letter = first character, type = whole tag: runs of one tag are one chunk, except S-letter tags (SCONJ, SYM),
    # which close after one token; a blank "O" after each sentence shifts the next one by its length + 1
    assert xtreme_chunks([["NOUN", "NOUN", "VERB"], ["SCONJ", "SCONJ", "INTJ", "INTJ"]]) == [
        ("NOUN", 0, 1), ("VERB", 2, 2), ("SCONJ", 4, 4), ("SCONJ", 5, 5), ("INTJ", 6, 7)]
    # IOB2 as seqeval: I- after O opens a chunk, B- after I- of the same type opens a new one
    assert xtreme_chunks([["I-PER", "B-PER", "I-PER", "O", "B-LOC"]]) == [("PER", 0, 0), ("PER", 1, 2), ("LOC", 4, 4)]
    # type = text after the last "-" (seqeval >= 1.0: after the first)
    assert xtreme_chunks([["B-A-X", "I-B-X"]]) == [("X", 0, 1)]
    with pytest.raises(DataError, match="empty tag"):
        xtreme_chunks([["NOUN", ""]])


def test_xtreme_chunking_scores_vs_seqeval():
    gold = [["NOUN", "NOUN", "CCONJ", "VERB"]]  # NOUN 0-1, CCONJ 2, VERB 3
    pred = [["NOUN", "NOUN", "SCONJ", "VERB"]]  # NOUN 0-1, SCONJ 2, VERB 3
    assert entity_scores(gold, pred, "xtreme") == {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    # seqeval >= 1.0 types a bare tag by all but its first letter: CCONJ and SCONJ are both "CONJ"
    assert entity_scores(gold, pred) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    # P 1/3, R 1/1: F1 as 2PR/(P+R) from the float P and R (seqeval 0.0.12), here 0.5 either way
    s = entity_scores([["B-PER", "O", "O"]], [["B-PER", "B-LOC", "B-ORG"]], "xtreme")
    assert s == {"precision": 1 / 3, "recall": 1.0, "f1": 2 * (1 / 3) / (1 / 3 + 1)}
    assert entity_scores([["O"]], [["O"]], "xtreme") == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # on IOB2 the two modes agree
    gold, pred = [["B-LOC", "O"], ["B-PER", "I-PER"]], [["B-LOC", "B-MISC"], ["I-PER", "I-PER"]]
    assert entity_scores(gold, pred, "xtreme") == entity_scores(gold, pred)
    with pytest.raises(ValueError, match="chunking must be one of"):
        entity_scores(gold, pred, "conll")


def test_length_mismatches_raise_data_error():
    with pytest.raises(DataError, match="2 labels but 1 predictions"):
        accuracy(["a", "b"], ["a"])
    with pytest.raises(DataError, match="sentence 2: 1 gold tags but 2 predicted tags"):
        entity_f1([["O"], ["O"]], [["O"], ["O", "O"]])
    with pytest.raises(DataError, match="gold answers"):
        f1("x", [])


def test_squad_normalisation_is_ascii_english():
    assert normalize_answer("The Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("«Paris»") == "«paris»"  # SQuAD v1.1 strips ASCII punctuation only
    assert exact_match("the Eiffel Tower", ["Eiffel Tower", "Paris"]) == 1.0
    # pred [eiffel tower in paris]; vs [eiffel tower]: P 2/4 R 1 -> 2/3; vs [tower]: P 1/4 R 1 -> 0.4
    assert f1("Eiffel Tower in Paris", ["the Eiffel Tower", "Tower"]) == pytest.approx(2 / 3, abs=1e-15)


def test_mlqa_normalisation_per_language():
    assert normalize_answer("¡El Niño!", "es") == "niño"
    assert normalize_answer("Die Hauptstadt, Berlin", "de") == "hauptstadt berlin"
    assert normalize_answer("những con mèo", "vi") == "con mèo"
    assert normalize_answer("भारत।", "hi") == "भारत"  # the danda is Unicode punctuation
    assert normalize_answer("$5 «Paris»", "en") == "5 paris"  # P* plus ASCII string.punctuation
    assert normalize_answer("电化电池。", "zh") == "电 化 电 池"
    assert normalize_answer("锂电池 Battery-2", "zh") == "锂 电 池 battery2"


def test_chinese_answer_em_f1():
    # MLQA zh: pred [电 化 电 池] vs gold [电 池]: 2 shared, P 2/4 R 1 -> F1 2/3
    assert exact_match("电化电池。", ["电池"], "zh") == 0.0
    assert f1("电化电池。", ["电池"], "zh") == pytest.approx(2 / 3, abs=1e-15)
    # mixed segmentation: [锂 电 池 battery] vs [电 池 battery]: P 3/4 R 1 -> 6/7
    assert f1("锂电池 battery", ["电池 Battery"], "zh") == pytest.approx(6 / 7, abs=1e-15)
    assert exact_match("电池。", ["电池"], "zh") == 1.0
    # SQuAD normalisation keeps the string as one token: no overlap
    assert f1("电化电池", ["电池"]) == 0.0


def test_arabic_answer_em_f1():
    # MLQA ar drops every "ال": "الكتاب الأحمر" -> [كتاب أحمر]
    assert normalize_answer("الكتاب الأحمر", "ar") == "كتاب أحمر"
    assert exact_match("الكتاب الأحمر", ["كتاب أحمر"], "ar") == 1.0
    assert exact_match("الكتاب الأحمر", ["كتاب أحمر"]) == 0.0
    # Arabic comma (U+060C, Po) removed: [كتاب قلم] vs [كتاب]: P 1/2 R 1 -> 2/3
    assert f1("كتاب، قلم", ["كتاب"], "ar") == pytest.approx(2 / 3, abs=1e-15)
    assert f1("كتاب، قلم", ["كتاب"]) == 0.0  # SQuAD keeps "كتاب،" as a token


def test_qa_scores_are_means_over_questions():
    assert qa_scores(["Paris", "a dog"], [["Paris"], ["the cat"]]) == {"exact_match": 0.5, "f1": 0.5}
    s = qa_scores(["电化电池", "الكتاب"], [["电池"], ["كتاب"]], "zh")
    assert s["exact_match"] == 0.0  # zh has no articles, so "الكتاب" stays
    with pytest.raises(DataError, match="1 questions but 2 predictions"):
        qa_scores(["a", "b"], [["a"]])


def test_docstring_examples():
    import doctest

    import harness.metrics

    assert doctest.testmod(harness.metrics).failed == 0
