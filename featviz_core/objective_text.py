"""Objectives as text: a weighted sum of named terms, e.g. "channel - 0.05*tv + 0.5*diversity".

TensorFlow-free (the dashboard and the atlas read objectives without loading it). `Objective` is a
frozen, hashable value; `parse_objective` reads the text and `str()` writes it back the same way.
The terms are the registry `parts.TERMS`; what each computes lives in `featviz_core.ascent.objectives`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from featviz_core.parts import TERMS


MAX_WEIGHT = 1000.0

_TERM = re.compile(r"\s*(?:(?P<weight>\d+(?:\.\d*)?|\.\d+)\s*\*?\s*)?(?P<name>[A-Za-z_]\w*)\s*$")


class ObjectiveError(ValueError):
    """An objective text that cannot be read; the message names the bad term."""


@dataclass(frozen=True)
class Term:
    """One weighted part of an objective."""

    name: str
    weight: float = 1.0

    def __str__(self) -> str:
        return self.name if self.weight == 1.0 else f"{self.weight:g}*{self.name}"


@dataclass(frozen=True)
class Objective:
    """A weighted sum of terms: targets and diversity are added, penalties subtracted. Every term
    but the targets is scaled by the targets' size, so a weight means the same at every layer."""

    terms: tuple[Term, ...]

    def __str__(self) -> str:
        text = ""
        for term in self.terms:
            sign = "-" if term.weight < 0 else "+"
            shown = str(Term(term.name, abs(term.weight)))
            text = shown if not text and sign == "+" else f"{text} {sign} {shown}".strip()
        return text

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(term.name for term in self.terms)

    def of_role(self, role: str) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if TERMS[term.name].role == role)

    @property
    def reads_logits(self) -> bool:
        return "logit" in self.names

    @property
    def single_target(self) -> str | None:
        """The one target term's name when the objective is just that term (e.g. "channel")."""
        return self.terms[0].name if len(self.terms) == 1 and self.terms[0].weight == 1.0 else None


def parse_objective(text: str | Objective) -> Objective:
    """Read "channel - 0.05*tv + 0.5*diversity" (an Objective is returned as is).

    Raises ObjectiveError naming the first bad term."""
    if isinstance(text, Objective):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ObjectiveError("the objective is empty: write e.g. channel, or channel - 0.05*tv")
    stripped = text.strip()
    if stripped[-1] in "+-*":
        raise ObjectiveError(f"{stripped!r} ends with {stripped[-1]!r}: a term is missing after it")
    pieces = re.split(r"([+-])", stripped)  # term, sign, term, sign, ... ('' first if it starts with a sign)
    signed = list(zip(pieces[1::2], pieces[2::2]))
    if pieces[0].strip():
        signed.insert(0, ("+", pieces[0]))
    terms = []
    for operator, piece in signed:
        if not piece.strip():
            raise ObjectiveError(f"two signs in a row in {stripped!r}: put a term between them")
        terms.append(_term(piece, -1.0 if operator == "-" else 1.0))
    return _checked(Objective(tuple(terms)))


def _term(piece: str, sign: float) -> Term:
    match = _TERM.match(piece)
    if match is None:
        raise ObjectiveError(f"cannot read the term {piece.strip()!r}: write NAME or WEIGHT*NAME, e.g. 0.05*tv")
    name = match["name"].lower()
    if name not in TERMS:
        raise ObjectiveError(f"unknown term {match['name']!r}: the terms are {', '.join(TERMS)}")
    weight = float(match["weight"]) if match["weight"] else 1.0
    if not 0 < weight <= MAX_WEIGHT:
        raise ObjectiveError(f"the weight of {piece.strip()!r} must be above 0 and at most {MAX_WEIGHT:g}")
    return Term(name, sign * weight)


def _checked(objective: Objective) -> Objective:
    targets = objective.of_role("target")
    if not targets:
        raise ObjectiveError(f"{objective} has nothing to climb: add a target ({_names('target')})")
    for term in objective.terms:
        role = TERMS[term.name].role
        if role != "penalty" and term.weight < 0:
            raise ObjectiveError(f"'{term.name}' is something to climb: add it, do not subtract it")
        if role == "penalty" and term.weight > 0:
            raise ObjectiveError(f"'{term.name}' is a penalty: subtract it (e.g. channel - {term.weight:g}*{term.name})")
    repeated = {name for name in objective.names if objective.names.count(name) > 1}
    if repeated:
        raise ObjectiveError(f"the term {sorted(repeated)[0]!r} appears twice: give it one weight")
    if objective.reads_logits and len(targets) > 1:
        raise ObjectiveError("'logit' reads the classifier layer: it cannot be mixed with other targets")
    return objective


def _names(role: str) -> str:
    return ", ".join(name for name, info in TERMS.items() if info.role == role)


CHANNEL = Objective((Term("channel"),))
