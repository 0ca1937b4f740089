"""How it works shows the formula of the objective actually chosen, not always the channel one."""

from __future__ import annotations

import pytest

from dashboard_helpers import app, fresh_seed, no_exceptions  # first: puts the repository root on sys.path
from dashboard.display import formulas  # noqa: E402
from featviz_core.objective_text import parse_objective


def how_it_works(monkeypatch, **query):
    at = app(monkeypatch, seed=fresh_seed(), **query).run()
    return at.switch_page("app_pages/how_it_works.py").run()


@pytest.mark.slow
def test_the_formula_follows_the_objective(monkeypatch):
    channel = how_it_works(monkeypatch)
    no_exceptions(channel)
    assert any(r"\sum_{i,j}" in latex.value and "TV" not in latex.value for latex in channel.latex)
    mixed = how_it_works(monkeypatch, objective="neuron - 0.05*tv")
    no_exceptions(mixed)
    formula = next(latex.value for latex in mixed.latex if "L(x)" in latex.value)
    assert r"\lfloor H/2\rfloor" in formula and r"0.05\,\mathrm{TV}(x)" in formula
    assert any("`neuron - 0.05*tv`" in markdown.value for markdown in mixed.markdown)


def test_every_term_has_a_formula_and_words():
    for name in ("channel", "neuron", "deepdream", "logit"):
        assert formulas.objective_latex(parse_objective(name), "conv", 1).startswith("L(x) = ")
    both = parse_objective("channel - 0.05*tv - 0.1*blur + 0.5*diversity")
    latex = formulas.objective_latex(both, "conv", 1)
    assert r"- 0.05\,\mathrm{TV}(x) - 0.1\," in latex and r"+ 0.5\,\mathrm{div}(x)" in latex
    assert formulas.objective_words(both).count("**") == 8
