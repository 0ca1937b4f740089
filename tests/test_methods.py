"""Each method piece does what it says: transforms, parameterizations, warm-up rescue, TV, objectives, Adam."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from featviz_core import objectives, optimizers, parameterizations, transforms
from featviz_core.ascent import AscentStep, render, render_batch
from featviz_core.models import load_model, pre_activation_model
from featviz_core.quality import high_frequency_share
from featviz_core.settings import Method, RenderSettings


@pytest.fixture(scope="module")
def tiny():
    return load_model("tiny")


def random_images(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).random(shape) * 255, tf.float32)


def test_jitter_moves_pixels_and_keeps_them():
    images = random_images((1, 32, 32, 3))
    moved = transforms.jitter(images, tf.constant(4), tf.constant(3))
    assert not np.allclose(moved, images)
    assert np.allclose(np.sort(moved.numpy().ravel()), np.sort(images.numpy().ravel()))  # a shift, not a blur


def test_robustness_transforms_are_seeded_and_change_the_view():
    images = random_images((2, 40, 40, 3))
    first = transforms.robustness_transforms(images, tf.constant(5))
    again = transforms.robustness_transforms(images, tf.constant(5))
    other = transforms.robustness_transforms(images, tf.constant(6))
    assert np.array_equal(first, again)
    assert first.shape[0] == 2 and first.shape[-1] == 3
    assert first.shape != other.shape or not np.allclose(first, other)


def test_rotation_by_zero_is_identity_and_by_ninety_turns():
    images = random_images((1, 9, 9, 3))
    assert np.allclose(transforms.rotate(images, tf.constant(0.0)), images, atol=1e-3)
    turned = transforms.rotate(images, tf.constant(90.0)).numpy()[0]
    assert np.allclose(turned, np.rot90(images.numpy()[0], k=1), atol=1e-2) or \
        np.allclose(turned, np.rot90(images.numpy()[0], k=-1), atol=1e-2)


@pytest.mark.parametrize("shape", [(1, 16, 16, 3), (2, 17, 23, 3)])
def test_fourier_parameterization_round_trips(shape):
    pixels = random_images(shape)
    param = parameterizations.from_pixels(pixels, "fourier")
    assert param.shape.rank == parameterizations.variable_rank("fourier")
    assert np.allclose(parameterizations.to_pixels(param, "fourier"), pixels, atol=1e-2)


def test_fourier_steps_favour_low_frequencies():
    """The 1/f scaling: a random step in the Fourier variable changes the image far more smoothly
    than the same random step in pixel space."""
    pixels = tf.fill([1, 32, 32, 3], 128.0)

    def change_hf(kind: str) -> float:
        param = parameterizations.from_pixels(pixels, kind)
        step = tf.constant(np.random.default_rng(1).normal(size=param.shape), tf.float32)
        change = (parameterizations.to_pixels(param + step, kind) - pixels).numpy()[0]
        shown = (change - change.mean()) / change.std() * 30 + 128
        return high_frequency_share(np.clip(shown, 0, 255).astype(np.uint8))

    assert change_hf("pixels") > 0.6
    assert change_hf("fourier") < 0.3


def test_warmup_passes_gradient_for_inactive_units_only_during_warmup(tiny):
    """A filter whose ReLU output is zero everywhere gets a gradient only in warm-up (pre-activation)."""
    step = AscentStep(tiny, "block1_conv1", Method())
    images = tf.fill([1, 16, 16, 3], 128.0)
    network, activation = pre_activation_model(tiny.model, "block1_conv1")
    pre = network(tiny.preprocess(images)).numpy()
    dead = int(np.argmax((pre < 0).mean(axis=(0, 1, 2))))
    assert (pre[..., dead] < 0).all(), "needs a filter that is off everywhere on a gray image"
    filters = tf.constant([dead])

    def change(warm: bool) -> float:
        zeros = tf.zeros_like(images)
        new, *_ = step.step(images, zeros, zeros, tf.constant(1.0), filters, tf.constant(1.0), tf.constant(0.0),
                            tf.constant([warm]), tf.constant(0))
        return float(tf.reduce_max(tf.abs(new - images)))

    assert change(warm=True) > 0.5
    assert change(warm=False) == 0.0


def test_pre_activation_model_matches_the_layer(tiny):
    network, activation = pre_activation_model(tiny.model, "block2_conv1")
    images = tiny.preprocess(random_images((1, 20, 20, 3)))
    real = tf.keras.Model(tiny.model.inputs, tiny.model.get_layer("block2_conv1").output)(images)
    pre = network(images)
    assert np.allclose(activation(pre), real, atol=1e-5)
    assert (pre.numpy() < 0).any()


def test_total_variation_lowers_high_frequencies(tiny):
    base = RenderSettings(model="tiny", layer="block2_conv2", filter=1, steps_per_octave=12, octaves=2,
                          final_size=48, step_size=4.0)
    plain = render(base, tiny)
    smooth = render(base.with_changes(tv_weight=5.0), tiny)
    assert high_frequency_share(smooth.image) < high_frequency_share(plain.image)


def test_objectives_on_a_known_tensor():
    outputs = tf.constant(np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(2, 3, 3, 4))
    filters = tf.constant([1, 3])
    assert np.allclose(objectives.channel(outputs, filters), [outputs[0, ..., 1].numpy().mean(), outputs[1, ..., 3].numpy().mean()])
    assert np.allclose(objectives.neuron(outputs, filters), [outputs[0, 1, 1, 1], outputs[1, 1, 1, 3]])
    assert np.allclose(objectives.deepdream(outputs, filters), np.mean(outputs.numpy() ** 2, axis=(1, 2, 3)))
    same = tf.concat([outputs[:1], outputs[:1]], axis=0)
    assert np.allclose(objectives.diversity_penalty(same), 1.0, atol=1e-5)


def test_adam_step_moves_towards_the_gradient():
    param = tf.zeros([1, 4, 4, 3])
    grads = tf.ones([1, 4, 4, 3])
    zeros = tf.zeros_like(param)
    new, first, second = optimizers.adam_step(param, grads, tf.constant(0.5), zeros, zeros, tf.constant(1.0))
    assert np.allclose(new, 0.5, atol=1e-3)
    assert np.allclose(optimizers.rms_step(param, grads * 7, tf.constant(2.0)), 2.0, atol=1e-5)


def test_logit_objective_on_a_classifier_head(tiny):
    assert tiny.has_classifier
    settings = RenderSettings(model="tiny", layer="predictions", filter=4, objective="logit", steps_per_octave=6,
                              octaves=1, final_size=32, step_size=4.0)
    result = render(settings, tiny)
    assert not result.dead
    assert result.losses[-1] > result.losses[0]


def test_diversity_pushes_the_images_of_a_batch_apart(tiny):
    """The batch's style similarity (Gram matrices of the layer) ends lower with the diversity term."""
    settings = RenderSettings(model="tiny", layer="block2_conv1", filter=7, steps_per_octave=15, octaves=1,
                              final_size=32, step_size=4.0)
    network, activation = pre_activation_model(tiny.model, "block2_conv1")

    def similarity(results) -> float:
        images = tf.constant(np.stack([r.image for r in results]), tf.float32)
        return float(objectives.diversity_penalty(activation(network(tiny.preprocess(images))))[0])

    independent = [render(settings.with_changes(seed=seed), tiny) for seed in (0, 1)]  # what diversity starts from
    diverse = render_batch(settings.with_changes(objective="diversity"), [7, 7], tiny)
    assert similarity(diverse) < similarity(independent) - 1e-4  # well above float rounding (~1e-7)


def test_logit_objective_says_when_a_model_has_no_classifier(tiny):
    conv_only = RenderSettings(model="tiny", layer="block2_conv1", objective="logit")
    with pytest.raises(ValueError, match="objective 'logit' needs the classifier layer \\(predictions\\)"):
        conv_only.check_layer(tiny.layers)
    headless = [info for info in tiny.layers if info.kind != "Dense"]
    with pytest.raises(ValueError, match="has none"):
        conv_only.check_layer(headless)


def test_robust_preset_runs_on_a_mobilenet_architecture():
    """Depthwise convs, batch norm and ReLU6 layers (random weights: no download here)."""
    import keras

    from featviz_core.models import LoadedModel

    network = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(None, None, 3))
    loaded = LoadedModel("mobilenetv2-random", "test", network, keras.applications.mobilenet_v2.preprocess_input)
    layer = "block_3_depthwise"
    assert any(info.name == layer and info.kind == "DepthwiseConv2D" for info in loaded.layers)
    from featviz_core.settings import preset

    result = render(preset("robust", model=loaded.name, layer=layer, filter=5, final_size=64, octaves=2,
                           steps_per_octave=4), loaded)
    assert result.image.shape == (64, 64, 3) and result.steps_run == 8 and np.isfinite(result.losses).all()
