"""Adversarial search (DESIGN.md noun "Attack"): goals, constraints, candidate edits from the perturbation library,
greedy-with-word-importance and beam search, and the published recipes (registered in harness.attack.ATTACKS)."""
from .candidates import FamilyCandidates, word_families
from .constraints import STOPWORDS, MaxWordDistance, MinWordLength, ProtectGold, ProtectNumbers, Stopwords
from .engine import SearchAttack
from .goals import ChoiceScoreBelow, ClassifierScoreBelow, ScoreBelow, goal_for
from .planned import PlannedEdits, Recorder, find_sites, planned
from .recipes import BadCharacters, DeepWordBug, Pruthi, TextBuggerChar
from .search import BeamSearch, GreedyWordImportance

__all__ = ["BadCharacters", "BeamSearch", "ChoiceScoreBelow", "ClassifierScoreBelow", "DeepWordBug",
           "FamilyCandidates", "GreedyWordImportance", "MaxWordDistance", "MinWordLength", "PlannedEdits", "Pruthi",
           "ProtectGold", "ProtectNumbers", "Recorder", "STOPWORDS", "ScoreBelow", "SearchAttack", "Stopwords",
           "TextBuggerChar", "find_sites", "goal_for", "planned", "word_families"]
