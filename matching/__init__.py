"""Rank expert organisations for technical-assistance requests, with reasons."""

from matching.assign import Allocation, Assignment, BindingConstraint, assign
from matching.matcher import LearnResult, Matcher
from matching.persistence import fingerprint, load_matcher, load_or_fit, save_matcher
from matching.profiles import (
    REASON_CODES,
    Decision,
    ExpertProfile,
    Match,
    Reason,
    RequestProfile,
)
from matching.signals import DEFAULT_WEIGHTS, SIGNALS

__all__ = [
    "DEFAULT_WEIGHTS",
    "REASON_CODES",
    "SIGNALS",
    "Allocation",
    "Assignment",
    "BindingConstraint",
    "Decision",
    "ExpertProfile",
    "LearnResult",
    "Match",
    "Matcher",
    "Reason",
    "RequestProfile",
    "assign",
    "fingerprint",
    "load_matcher",
    "load_or_fit",
    "save_matcher",
]
