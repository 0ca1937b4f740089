"""Tests for featviz_core.ascent.quality: the act / robust / hf / dead-rate proxies."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageFilter

from featviz_core import ascent, settings
from featviz_core import rendering
from featviz_core.models import feature_model
from featviz_core.ascent.quality import (
    MAX_JITTER_PX,
    MAX_ROTATION_DEGREES,
    SCALE_RANGE,
    Quality,
    QualityMeter,
    high_frequency_share,
    view_transforms,
)

TINY_LAYER = "block2_conv2"



@pytest.fixture(scope="module")
def meter(tiny_model):
    return QualityMeter(tiny_model, TINY_LAYER)


def noise_image(size: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def gradient_image(size: int = 64) -> np.ndarray:
    ramp = np.linspace(0, 255, size)
    return np.stack([ramp[None, :].repeat(size, 0), ramp[:, None].repeat(size, 1),
                     np.full((size, size), 128.0)], axis=-1).astype(np.uint8)


def tuned_image(loaded, layer: str, filter_index: int, low_res: int | None, size: int = 64) -> np.ndarray:
    """Sign-gradient ascent on the filter: per pixel (low_res None) or on a bilinear-upsampled grid."""
    features = feature_model(loaded.model, layer)
    rng = np.random.default_rng(filter_index)
    shape = (1, low_res or size, low_res or size, 3)
    param = tf.Variable(rng.uniform(100, 156, shape).astype(np.float32))
    for _ in range(30):
        with tf.GradientTape() as tape:
            pixels = param if low_res is None else tf.image.resize(param, (size, size), method="bilinear")
            score = tf.reduce_mean(features(loaded.preprocess(pixels))[..., filter_index])
        param.assign(tf.clip_by_value(param + 8.0 * tf.sign(tape.gradient(score, param)), 0.0, 255.0))
    pixels = param if low_res is None else tf.image.resize(param, (size, size), method="bilinear")
    return np.clip(np.round(pixels.numpy()[0]), 0, 255).astype(np.uint8)


# --- hf -------------------------------------------------------------------------------------------


def test_hf_of_smooth_gradient_is_near_zero_and_of_noise_is_high():
    # no window: the ramp's wrap-around step is the only high-frequency power (about 3%)
    assert high_frequency_share(gradient_image()) < 0.05
    noisy = high_frequency_share(noise_image(128))
    assert noisy > 0.5
    assert noisy == pytest.approx(1 - math.pi / 16, abs=0.03)  # white noise: area outside the r=0.25 disc


def test_blurred_noise_has_lower_hf_than_noise():
    noise = noise_image(96)
    blurred = np.asarray(Image.fromarray(noise).filter(ImageFilter.GaussianBlur(2)))
    assert high_frequency_share(blurred) < 0.5 * high_frequency_share(noise)


def test_hf_edge_cases():
    assert high_frequency_share(np.full((32, 32, 3), 77, np.uint8)) == 0.0  # only DC power
    checker = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.float64)
    assert high_frequency_share(checker) == pytest.approx(1.0)  # all power at Nyquist
    four = np.concatenate([noise_image(32), np.zeros((32, 32, 1), np.uint8)], axis=-1)
    assert high_frequency_share(four) == high_frequency_share(four[..., :3])  # what is shown: the first three
    with pytest.raises(ValueError):
        high_frequency_share(np.zeros((4, 4, 2)))


# --- act --------------------------------------------------------------------------------------------


def test_activation_matches_direct_feature_model(tiny_model, meter):
    images = np.stack([noise_image(48, seed) for seed in range(3)])
    filters = [0, 5, 11]
    direct = feature_model(tiny_model.model, TINY_LAYER)(tiny_model.preprocess(tf.constant(images, tf.float32)))
    direct = np.asarray(direct, np.float32)
    expected = [direct[i, :, :, f].mean() for i, f in enumerate(filters)]
    np.testing.assert_allclose(meter.activation(images, filters), expected, rtol=1e-5, atol=1e-6)
    assert meter.measure(images[1], 5).act == pytest.approx(expected[1], rel=1e-5)
    with pytest.raises(ValueError):
        meter.activation(images, [0, 1])


# --- robust -------------------------------------------------------------------------------------------


def test_view_transforms_stay_in_their_ranges():
    transforms = view_transforms(16, seed=3, height=40, width=60)
    assert transforms.shape == (16, 8)
    np.testing.assert_array_equal(transforms, view_transforms(16, seed=3, height=40, width=60))
    centre = np.array([29.5, 19.5])
    for a0, a1, a2, b0, b1, b2, _, _ in transforms:
        inverse = np.array([[a0, a1], [b0, b1]])
        scale = 1 / math.sqrt(abs(np.linalg.det(inverse)))
        assert SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]
        assert abs(math.degrees(math.atan2(a1, a0))) <= MAX_ROTATION_DEGREES
        # the output point centre + shift reads the input centre: the shift is whole pixels, at most 8
        shift = np.linalg.solve(inverse, centre - np.array([a2, b2])) - centre
        np.testing.assert_allclose(shift, np.round(shift), atol=1e-3)
        assert np.abs(shift).max() <= MAX_JITTER_PX + 1e-3


def test_robust_is_deterministic_and_in_range(tiny_model, meter):
    image = gradient_image()
    first = meter.measure(image, 3)
    assert first.act > 0 and not first.dead
    assert 0 < first.robust < 2
    assert meter.measure(image, 3) == first
    assert QualityMeter(tiny_model, TINY_LAYER, seed=0).measure(image, 3) == first
    assert QualityMeter(tiny_model, TINY_LAYER, seed=1).measure(image, 3).robust != first.robust


def test_views_in_small_batches_give_the_one_batch_figure(tiny_model):
    image = gradient_image(80)
    one_batch = QualityMeter(tiny_model, TINY_LAYER, views_per_call=16).measure(image, 3)
    for views_per_call in (2, 3, QualityMeter(tiny_model, TINY_LAYER).views_per_call):  # 3: a short last batch
        chunked = QualityMeter(tiny_model, TINY_LAYER, views_per_call=views_per_call).measure(image, 3)
        assert chunked.act == one_batch.act
        assert chunked.robust == pytest.approx(one_batch.robust, rel=1e-6)
    with pytest.raises(ValueError, match="views_per_call"):
        QualityMeter(tiny_model, TINY_LAYER, views_per_call=0)


def test_uniform_image_is_fully_robust_thanks_to_reflect_fill(meter):
    """Every view of a flat image is the same flat image only if the borders are reflected, not black."""
    flat = np.full((64, 64, 3), 200, np.uint8)
    acts = meter.activation(np.repeat(flat[None], 16, axis=0), list(range(16)))
    quality = meter.measure(flat, int(np.argmax(acts)))
    assert quality.act > 0
    assert quality.robust == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_structure_is_robust_and_pixel_noise_is_not(tiny_model, meter):
    noise_scores, smooth_scores = [], []
    for filter_index in (0, 4, 8, 14):
        noise = meter.measure(tuned_image(tiny_model, TINY_LAYER, filter_index, low_res=None), filter_index)
        smooth = meter.measure(tuned_image(tiny_model, TINY_LAYER, filter_index, low_res=8), filter_index)
        assert noise.act > 0 and smooth.act > 0
        assert noise.robust < smooth.robust
        assert noise.hf > smooth.hf
        noise_scores.append(noise.robust)
        smooth_scores.append(smooth.robust)
    assert np.median(noise_scores) < 0.6
    assert np.median(smooth_scores) > 0.8


def test_a_picture_whose_render_found_the_filter_dead_counts_as_dead(meter):
    image = gradient_image()  # alive for filter 3 by the meter's own reading
    alive = meter.measure(image, 3)
    verdict = meter.measure(image, 3, ascent_dead=True)
    assert not alive.dead and alive.robust > 0
    assert verdict == Quality(act=alive.act, robust=0.0, hf=alive.hf, dead=True)


def test_dead_image_scores_zero(meter):
    black = np.zeros((32, 32, 3), np.uint8)  # tiny_model has zero biases: every activation is 0
    quality = meter.measure(black, 2)
    assert quality == Quality(act=0.0, robust=0.0, hf=0.0, dead=True)


# --- a real model -----------------------------------------------------------------------------------


def test_vgg16_offline_render_is_robust_and_noise_adds_hf():
    loaded = ascent.cached_model("vgg16-offline")
    preset = settings.preset("quick", layer="block3_conv3", filter=5, final_size=96, octaves=3)
    image = rendering.render(preset, loaded).image
    meter = QualityMeter(loaded, "block3_conv3")
    rendered = meter.measure(image, 5)
    assert rendered.act > 0 and not rendered.dead
    assert rendered.robust > 0.3
    noise = np.random.default_rng(0).uniform(-30, 30, image.shape)
    noisy = np.clip(image.astype(np.float64) + noise, 0, 255).astype(np.uint8)
    assert meter.measure(noisy, 5).hf > rendered.hf
