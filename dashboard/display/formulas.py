"""The objective as a formula (LaTeX) and in words, for the How it works page."""

from __future__ import annotations

from featviz_core.objective_text import Objective
from featviz_core.parts import TERMS

# Each term's value for image x; {a} is the layer's output, {k} the filter. Words come from the registry.
TERM_LATEX = {
    "channel": r"\frac{1}{HW}\sum_{i,j} {a}_{k}(x)_{ij}",
    "neuron": r"{a}_{k}(x)_{\lfloor H/2\rfloor,\lfloor W/2\rfloor}",
    "deepdream": r"\frac{1}{HWC}\sum_{i,j,c} {a}_{c}(x)_{ij}^{2}",
    "logit": r"z_{k}(x)",
    "tv": r"\mathrm{TV}(x)",
    "blur": r"\lVert x - \mathrm{blur}(x)\rVert_1",
    "diversity": r"\mathrm{div}(x)",
}
ROLE_WORDS = {"target": "", "penalty": ", subtracted", "group": ", added"}


def objective_latex(objective: Objective, layer: str, filter_index: int) -> str:
    """e.g. L(x) = mean a_k(x) - 0.05 |T(x)| TV(x); the non-target terms are scaled by the target's size."""
    layer_symbol = r"a^{\,%s}" % layer.replace("_", r"\_")

    def term(name: str) -> str:
        latex = TERM_LATEX.get(name, rf"\mathrm{{{name}}}(x)")  # a new term: its name until it gets a formula
        return latex.replace("{a}", layer_symbol).replace("{k}", f"{{{filter_index}}}")

    def weighted(weight: float, name: str) -> str:
        return term(name) if weight == 1 else rf"{weight:g}\,{term(name)}"

    targets = " + ".join(weighted(t.weight, t.name) for t in objective.of_role("target"))
    extras = [t for t in objective.terms if TERMS[t.name].role != "target"]
    if not extras:
        return f"L(x) = {targets}"
    scaled = " ".join(f"{'-' if t.weight < 0 else '+'} {weighted(abs(t.weight), t.name)}" for t in extras)
    return rf"T(x) = {targets},\qquad L(x) = T(x) + \lvert T(x)\rvert\,\big({scaled.lstrip('+ ')}\big)"


def objective_words(objective: Objective) -> str:
    """Each term's help from the registry, in the objective's order."""
    return "; ".join(f"**{t.name}**" + (f" (weight {abs(t.weight):g})" if abs(t.weight) != 1 else "")
                     + f": {TERMS[t.name].help}{ROLE_WORDS[TERMS[t.name].role]}" for t in objective.terms)
