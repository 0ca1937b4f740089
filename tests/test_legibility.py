"""Legible pictures (issue 26): the bounded image is shown as the network saw it, the rivals term, the
legibility measures on a model whose answers are known, and the blind test's pairs, key and scorer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from benchmarks.legibility.blind_test import Score, answer_key, pair_trials, parse_answers, score, trial_image
from benchmarks.legibility.measures import LayerReader, Norms, distinctness, own_ranks, specificity
from benchmarks.legibility.more_photos import MAX_SIDE, photo
from featviz_core.models.loading import LoadedModel
from featviz_core.settings import preset

ONE_OCTAVE = dict(model="tiny", layer="block2_conv1", octaves=1, final_size=32, steps_per_octave=8, final_steps=0,
                  warmup_steps=0, rivals=0.0, transforms="none", upscale_factor=1.2)


def _shown_against_seen(tiny_model, parameterization: str) -> tuple[np.ndarray, np.ndarray]:
    """(the loss the ascent read from its pixels at steps 2..8, the activation of the pictures shown after
    steps 1..7): with no transforms and no warm-up, step k+1 reads the pixels that step k showed."""
    from featviz_core.rendering import render
    from featviz_core.ascent.quality import QualityMeter

    previews = []
    settings = preset("robust", **ONE_OCTAVE, parameterization=parameterization, filter=10)
    result = render(settings, tiny_model, on_progress=lambda event: previews.append(event.preview))
    shown = QualityMeter(tiny_model, "block2_conv1").activation(np.stack(previews[:-1]).astype(np.float32),
                                                                [10] * (len(previews) - 1))
    return result.losses[1:], shown


def test_a_bounded_picture_is_what_the_network_saw(tiny_model):
    seen, shown = _shown_against_seen(tiny_model, "fourier-bounded")
    assert np.allclose(seen, shown, rtol=0.02, atol=0.01), (seen, shown)


def test_an_unbounded_picture_is_contrast_normalized_for_display(tiny_model):
    seen, shown = _shown_against_seen(tiny_model, "fourier")
    assert not np.allclose(seen, shown, rtol=0.02, atol=0.01)  # what the bounded test rules out can happen


def test_the_bounded_parameterization_stays_in_range_and_inverts():
    from featviz_core.ascent.parameterizations import BOUNDED_FOURIER

    pixels = np.random.default_rng(0).uniform(5, 250, (1, 24, 24, 3)).astype(np.float32)
    back = BOUNDED_FOURIER.to_pixels(BOUNDED_FOURIER.from_pixels(pixels)).numpy()
    assert np.allclose(back, pixels, atol=0.05)
    wild = BOUNDED_FOURIER.to_pixels(np.random.default_rng(1).normal(0, 50, (1, 24, 24, 6)).astype(np.float32))
    assert float(np.min(wild)) >= 0.0 and float(np.max(wild)) <= 255.0


def test_the_rivals_term_lowers_the_other_filters(tiny_model):
    """The same render with and without the term: the other filters, z-scored by their response on the
    sample photos, respond less to the picture made with it."""
    from featviz_core.rendering import render
    from featviz_core.examples.photo_response import photo_norms

    mean, spread = (np.array(values) for values in photo_norms(tiny_model, "block2_conv1"))
    reader = LayerReader(tiny_model, ["block2_conv1"])
    excess = []
    for rivals in (0.0, 8.0):
        settings = preset("robust", **{**ONE_OCTAVE, "steps_per_octave": 16, "rivals": rivals}, filter=10)
        image = render(settings, tiny_model).image.astype(np.float32)
        z = (reader.channel_means(image[None])["block2_conv1"][0] - mean) / spread
        excess.append(np.maximum(np.delete(z, 10), 0).mean())
    assert excess[1] < 0.8 * excess[0], excess


def test_a_photo_firing_filter_gets_a_picture_that_beats_its_best_photo(tiny_model):
    from featviz_core.rendering import render
    from featviz_core.ascent.quality import QualityMeter
    from featviz_core.examples.image_sets import sample_image_set
    from featviz_core.examples.photo_response import best_on_photos
    from featviz_core.examples.top_patches import tiled_patch

    """The default recipe without its rivals term (which trades some of the filter's own activation for
    specificity): 0.36 against the best patch's 0.23 in float32 and bfloat16 alike."""
    layer, index, size = "block2_conv1", 5, 64
    best = best_on_photos(tiny_model, layer).of(index)[0]
    assert best.activation > 0.1  # it fires on the photos
    picture = render(preset("robust", model="tiny", layer=layer, filter=index, final_size=size, octaves=2, rivals=0.0),
                     tiny_model).image
    tile = tiled_patch(sample_image_set(), best, tiny_model.input_size, size)
    mine, photo = QualityMeter(tiny_model, layer).activation(np.stack([picture, tile]).astype(np.float32),
                                                             [index, index])
    assert mine >= photo, (mine, photo)


# --- the measures, on a model whose answers are known ----------------------------------------------

@pytest.fixture(scope="module")
def colour_model() -> LoadedModel:
    """One 1x1 conv layer whose filters are the red, green and blue channels, pixels fed as they are."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(3, 1, use_bias=False, name="colours")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("colours").set_weights([np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return LoadedModel("colours", "channels as filters", model, lambda pixels: pixels)


def _flat(red: float, green: float, blue: float) -> np.ndarray:
    return np.broadcast_to(np.array([red, green, blue], np.float32), (8, 8, 3)).copy()


def test_specificity_ranks_the_filter_the_picture_was_made_for(colour_model):
    reader = LayerReader(colour_model, ["colours"])
    photos = np.stack([_flat(*np.random.default_rng(seed).uniform(80, 160, 3)) for seed in range(20)])
    norms = Norms.of(reader.channel_means(photos)["colours"])
    pictures = np.stack([_flat(250, 120, 120), _flat(120, 250, 120), _flat(120, 120, 250), _flat(250, 120, 100)])
    z = norms.zscores(reader.channel_means(pictures)["colours"])
    ranks = own_ranks(z, [0, 1, 2, 2])  # the last picture is red, said to be of the blue filter
    assert list(ranks) == [0, 0, 0, 2]
    assert specificity(ranks, top=2) == (0.75, 0.75) and specificity(ranks, top=3) == (0.75, 1.0)


def test_distinctness_is_one_for_copies_and_low_for_unrelated_pictures():
    assert distinctness(np.array([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0]])) == pytest.approx(1.0)
    assert distinctness(np.array([[3.0, -1.0, -1.0], [-1.0, 3.0, -1.0], [-1.0, -1.0, 3.0]])) < -0.2
    with pytest.raises(ValueError):
        distinctness(np.ones((1, 3)))


# --- the blind test -----------------------------------------------------------------------------------

def test_pairs_stay_in_their_layer_and_repeat_for_the_same_seed():
    filters = {"a": [0, 1, 2, 3], "b": [10, 11, 12]}
    trials = pair_trials(filters, 6, seed=3)
    assert len(trials) == 6 and {trial.layer for trial in trials} == {"a", "b"}
    assert all(trial.other in filters[trial.layer] and trial.other != trial.target for trial in trials)
    assert len({(trial.layer, trial.target) for trial in trials}) == 6
    assert pair_trials(filters, 6, seed=3) == trials
    with pytest.raises(ValueError):
        pair_trials(filters, 8)
    key = answer_key(trials, side_seed=5)
    assert set(key.values()) <= {"A", "B"} and answer_key(trials, side_seed=5) == key


def test_the_scorer_counts_against_a_known_key():
    key = {1: "A", 2: "B", 3: "A", 4: "B"}
    first = parse_answers("1: A sure\n2: A guess\ntrial 3 - A\n4: B")
    assert first == {1: "A", 2: "A", 3: "A", 4: "B"}
    second = parse_answers("1: B\n2: B\n3: A")  # trial 4 unanswered: wrong
    result = score([first, second], key)
    assert (result.right, result.total) == (5, 8)
    assert result.half_width == pytest.approx(1.96 * (0.625 * 0.375 / 8) ** 0.5)
    assert str(Score(111, 160)) == "111 of 160 right: 69% +-7%"


def test_a_trial_image_shows_the_patches_above_both_pictures():
    from benchmarks.legibility.blind_test import GAP, LABEL_HEIGHT, PATCH_SIDE, PICTURE_SIDE

    patches = [np.full((20, 20, 3), 10 * k, np.uint8) for k in range(6)]
    image = trial_image(patches, np.full((30, 30, 3), 200, np.uint8), np.zeros((30, 30, 3), np.uint8))
    assert image.shape == (PATCH_SIDE + GAP + LABEL_HEIGHT + PICTURE_SIDE, 6 * PATCH_SIDE, 3)
    assert [int(image[PATCH_SIDE // 2, PATCH_SIDE // 2 + k * PATCH_SIDE, 0]) for k in range(6)] == [0, 10, 20, 30, 40, 50]
    centre_row = PATCH_SIDE + GAP + LABEL_HEIGHT + PICTURE_SIDE // 2
    left = (image.shape[1] - 2 * PICTURE_SIDE - GAP) // 2
    assert tuple(image[centre_row, left + PICTURE_SIDE // 2]) == (200, 200, 200)  # A on the left
    assert tuple(image[centre_row, left + PICTURE_SIDE + GAP + PICTURE_SIDE // 2]) == (0, 0, 0)  # B on the right


def test_the_wider_photo_set_keeps_colour_photos_shrunk_and_leaves_out_gray_dull_small_and_broken_files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    files = {"colour": rng.integers(0, 256, (600, 900, 3)), "gray": np.repeat(rng.integers(0, 256, (600, 900, 1)), 3, -1),
             "dull": rng.integers(-2, 3, (600, 900, 3)) + np.array([120, 110, 100]), "small": rng.integers(0, 256, (200, 300, 3))}
    for name, pixels in files.items():
        Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / f"{name}.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    kept = {name: photo(tmp_path / f"{name}.png") for name in [*files, "broken"]}
    assert [name for name, image in kept.items() if image is not None] == ["colour"]
    assert kept["colour"].size == (MAX_SIDE, round(600 * MAX_SIDE / 900))
