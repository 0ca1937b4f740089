"""Objectives as text: they parse into frozen, hashable values, print back the same way, and a bad
expression gets one line naming the bad term."""

from __future__ import annotations

import pytest

from featviz_core.objective_text import CHANNEL, Objective, ObjectiveError, Term, parse_objective
from featviz_core.settings import RenderSettings, SettingsError


@pytest.mark.parametrize("text, canonical", [
    ("channel", "channel"),
    ("channel - 0.05*tv + 0.5*diversity", "channel - 0.05*tv + 0.5*diversity"),
    ("  Channel-0.05 tv ", "channel - 0.05*tv"),
    ("2 * neuron - .1*blur", "2*neuron - 0.1*blur"),
    ("deepdream", "deepdream"),
])
def test_objectives_round_trip_as_text(text, canonical):
    objective = parse_objective(text)
    assert str(objective) == canonical
    assert parse_objective(str(objective)) == objective and hash(parse_objective(canonical)) == hash(objective)


def test_an_objective_is_a_weighted_sum_of_terms():
    objective = parse_objective("channel - 0.05*tv + 0.5*diversity")
    assert objective.terms == (Term("channel", 1.0), Term("tv", -0.05), Term("diversity", 0.5))
    assert [t.name for t in objective.of_role("target")] == ["channel"]
    assert parse_objective("channel") == CHANNEL and CHANNEL.single_target == "channel"
    assert parse_objective("logit").reads_logits and not objective.reads_logits


@pytest.mark.parametrize("text, named", [
    ("chanel", "unknown term 'chanel'"),
    ("channel - tv*2", "cannot read the term 'tv*2'"),
    ("channel +", "ends with '+'"),
    ("channel + tv", "'tv' is a penalty: subtract it"),
    ("- channel", "'channel' is something to climb"),
    ("channel + channel", "the term 'channel' appears twice"),
    ("0*channel", "the weight of '0*channel'"),
    ("tv", "has nothing to climb"),
    ("logit + channel", "'logit' reads the classifier layer"),
    ("channel + -tv", "two signs in a row"),
    ("", "the objective is empty"),
])
def test_a_bad_expression_gets_one_line_naming_the_bad_term(text, named):
    with pytest.raises(ObjectiveError) as caught:
        parse_objective(text)
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_settings_carry_the_objective_and_mark_its_field():
    settings = RenderSettings(objective="channel - 0.05*tv")
    assert isinstance(settings.objective, Objective) and str(settings.objective) == "channel - 0.05*tv"
    assert settings == RenderSettings(objective=parse_objective("channel - 0.05*tv"))
    with pytest.raises(SettingsError) as caught:
        RenderSettings(objective="channel - 0.05*tvv")
    assert caught.value.field == "objective" and "unknown term 'tvv'" in str(caught.value)
