"""The core's method parts each do what they say: transforms, parameterizations, warm-up rescue, objective
terms, optimizers."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from featviz_core import imaging
from featviz_core.ascent import objectives, optimizers, parameterizations, transforms
from featviz_core.ascent import AscentStep
from featviz_core.rendering import render, render_batch
from featviz_core.ascent.loop import _strongest
from featviz_core.models import pre_activation_model
from featviz_core.ascent.quality import high_frequency_share
from featviz_core.settings import Method, RenderSettings, SettingsError
from featviz_core.models.loading import classifier_layer



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
    param = parameterizations.FOURIER.from_pixels(pixels)
    assert param.shape[:3] == shape[:3]
    assert np.allclose(parameterizations.FOURIER.to_pixels(param), pixels, atol=1e-2)


def test_maco_keeps_the_phase_and_gives_natural_magnitudes():
    """MaCo: the picture's spectrum magnitude is the natural photos' whatever the variable; only its
    phase (the variable) moves the picture, and the phase of a picture comes back through it."""
    maco = parameterizations.MACO
    first = maco.to_pixels(maco.from_pixels(random_images((1, 32, 32, 3), seed=1)))
    second = maco.to_pixels(maco.from_pixels(random_images((1, 32, 32, 3), seed=2)))
    decorrelated = [((image.numpy()[0] - parameterizations.GRAY) / parameterizations.PIXEL_SCALE)
                    @ parameterizations.COLOR_SQRT_INV.T for image in (first, second)]
    magnitude = [np.abs(np.fft.rfft2(image, axes=(0, 1))) for image in decorrelated]
    assert np.allclose(magnitude[0], magnitude[1], rtol=1e-3, atol=1e-2)
    assert not np.allclose(first, second)
    again = maco.to_pixels(maco.from_pixels(first))
    assert np.allclose(again, first, atol=0.5)
    profile = parameterizations.natural_magnitude_profile()
    assert profile[0].sum() == 0 and (profile[1] > 10 * profile[-1]).all()  # natural photos: about 1/f


def test_fourier_steps_favour_low_frequencies():
    """The 1/f scaling: a random step in the Fourier variable changes the image far more smoothly
    than the same random step in pixel space."""
    pixels = tf.fill([1, 32, 32, 3], 128.0)

    def change_hf(kind: str) -> float:
        parameterization = parameterizations.PIXELS if kind == "pixels" else parameterizations.FOURIER
        param = parameterization.from_pixels(pixels)
        step = tf.constant(np.random.default_rng(1).normal(size=param.shape), tf.float32)
        change = (parameterization.to_pixels(param + step) - pixels).numpy()[0]
        shown = (change - change.mean()) / change.std() * 30 + 128
        return high_frequency_share(np.clip(shown, 0, 255).astype(np.uint8))

    assert change_hf("pixels") > 0.6
    assert change_hf("fourier") < 0.3


def test_warmup_passes_gradient_for_inactive_units_only_during_warmup(tiny_model):
    """A filter whose ReLU output is zero everywhere gets a gradient only in warm-up (pre-activation)."""
    step = AscentStep(tiny_model, "block1_conv1", Method())
    images = tf.fill([1, 16, 16, 3], 128.0)
    network, activation = pre_activation_model(tiny_model.model, "block1_conv1")
    pre = network(tiny_model.preprocess(images)).numpy()
    dead = int(np.argmax((pre < 0).mean(axis=(0, 1, 2))))
    assert (pre[..., dead] < 0).all(), "needs a filter that is off everywhere on a gray image"
    filters = tf.constant([dead])

    def change(warm: bool) -> float:
        zeros = tf.zeros_like(images)
        new, *_ = step.step(images, zeros, zeros, tf.constant(1.0), filters, tf.constant([0]), tf.constant(1.0),
                            tf.constant([warm]), tf.constant(0))
        return float(tf.reduce_max(tf.abs(new - images)))

    assert change(warm=True) > 0.5
    assert change(warm=False) == 0.0


def test_the_strongest_pre_activation_is_a_soft_maximum_over_positions():
    pre = np.full((1, 6, 6, 2), -30.0, np.float32)
    pre[0, 4, 1, 0] = -2.0  # channel 0 is closest to firing at one position
    strongest = _strongest(tf.constant(pre)).numpy()
    assert strongest.shape == pre.shape
    assert np.allclose(strongest[..., 0], -2.0, atol=1e-3)  # the maximum, read at every position
    assert np.allclose(strongest[..., 1], -30.0 + np.log(36), atol=1e-3)  # all alike: the maximum + log(count)


def test_as_shown_is_the_display_mapping():
    images = random_images((2, 12, 12, 3)) * 0.3 + 40
    shown = transforms.as_shown(images, tf.constant(0)).numpy()
    for index in range(2):
        assert np.abs(shown[index] - imaging.deprocess(images.numpy()[index])).max() <= 1.0  # but the rounding


def test_pre_activation_model_matches_the_layer(tiny_model):
    network, activation = pre_activation_model(tiny_model.model, "block2_conv1")
    images = tiny_model.preprocess(random_images((1, 20, 20, 3)))
    real = tf.keras.Model(tiny_model.model.inputs, tiny_model.model.get_layer("block2_conv1").output)(images)
    pre = network(images)
    assert np.allclose(activation(pre), real, atol=1e-5)
    assert (pre.numpy() < 0).any()


def test_smoothness_penalties_lower_high_frequencies(tiny_model):
    base = RenderSettings(model="tiny", layer="block2_conv2", filter=1, steps_per_octave=12, octaves=2,
                          final_size=48, step_size=4.0)
    plain = render(base, tiny_model)
    for penalty in ("tv", "blur"):
        smooth = render(base.with_changes(objective=f"channel - 5*{penalty}"), tiny_model)
        assert high_frequency_share(smooth.image) < high_frequency_share(plain.image), penalty


def test_objectives_on_a_known_tensor():
    outputs = tf.constant(np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(2, 3, 3, 4))
    filters = tf.constant([1, 3])
    assert np.allclose(objectives.channel(outputs, filters), [outputs[0, ..., 1].numpy().mean(), outputs[1, ..., 3].numpy().mean()])
    assert np.allclose(objectives.neuron(outputs, filters), [outputs[0, 1, 1, 1], outputs[1, 1, 1, 3]])
    assert np.allclose(objectives.deepdream(outputs, filters), np.mean(outputs.numpy() ** 2, axis=(1, 2, 3)))
    same = tf.concat([outputs[:1], outputs[:1], outputs[1:]], axis=0)
    # images 0 and 1 are variants of one filter and alike (similarity 1); image 2 is alone in its group
    assert np.allclose(objectives.diversity(same, tf.constant([0, 0, 1])), [-1.0, -1.0, 0.0], atol=1e-5)


NADAM_FIRST_STEP = 0.9 * 0.1 / (1 - 0.9 ** 2) + 1  # momentum looking ahead, plus the bias-corrected gradient


@pytest.mark.parametrize("step, expected", [(optimizers.adam_step, 0.5), (optimizers.nadam_step, 0.5 * NADAM_FIRST_STEP),
                                            (optimizers.rms_step, 0.5)])
def test_every_optimizer_moves_uphill_by_its_step_size(step, expected):
    param = tf.zeros([1, 4, 4, 3])
    grads = tf.ones([1, 4, 4, 3]) * 7
    zeros = tf.zeros_like(param)
    new, first, second = step(param, grads, tf.constant(0.5), zeros, zeros, tf.constant(1.0))
    assert np.allclose(new, expected, atol=1e-3)


def test_logit_objective_on_a_classifier_head(tiny_model):
    assert classifier_layer(tiny_model.model) is not None
    settings = RenderSettings(model="tiny", layer="predictions", filter=4, objective="logit", steps_per_octave=6,
                              octaves=1, final_size=32, step_size=4.0)
    result = render(settings, tiny_model)
    assert not result.dead
    assert result.losses[-1] > result.losses[0]


def test_diversity_pushes_the_variants_of_one_filter_apart(tiny_model):
    """The variants' style similarity (Gram matrices of the layer) ends lower with the diversity term
    than without it, from the same starts (seeds 0 and 1)."""
    settings = RenderSettings(model="tiny", layer="block2_conv1", filter=7, steps_per_octave=15, octaves=1,
                              final_size=32, step_size=4.0, variants=2)
    network, activation = pre_activation_model(tiny_model.model, "block2_conv1")

    def similarity(result) -> float:
        images = tf.constant(np.stack([result.image, *result.variants]), tf.float32)
        outputs = tf.cast(activation(network(tiny_model.preprocess(images))), tf.float32)
        return -float(objectives.diversity(outputs, tf.constant([0, 0]))[0])

    independent = render(settings, tiny_model)
    diverse = render(settings.with_changes(objective="channel + 2*diversity"), tiny_model)
    assert len(diverse.variants) == 1 and diverse.settings.variants == 2
    assert similarity(diverse) < similarity(independent) - 1e-4  # well above float rounding (~1e-7)


def test_a_filters_diverse_pictures_do_not_depend_on_its_batch_neighbours(tiny_model):
    """Diversity compares the variants of one filter only: filter 7 gives the same pictures alone
    or rendered next to filter 3."""
    settings = RenderSettings(model="tiny", layer="block2_conv1", steps_per_octave=6, octaves=1, final_size=32,
                              step_size=4.0, variants=2, objective="channel + diversity")
    alone = render_batch(settings, [7], tiny_model)[0]
    together = render_batch(settings, [3, 7], tiny_model)[1]
    assert together.settings.filter == 7
    for mine, theirs in zip([alone.image, *alone.variants], [together.image, *together.variants]):
        assert np.abs(mine.astype(int) - theirs.astype(int)).max() <= 1


def test_diversity_needs_variants():
    with pytest.raises(SettingsError) as caught:
        RenderSettings(objective="channel + 0.5*diversity")
    assert caught.value.field == "variants"


def test_logit_objective_reads_the_score_before_the_softmax(tiny_model):
    """tiny's head has a built-in softmax: the logit objective climbs and reports the pre-softmax logit."""
    settings = RenderSettings(model="tiny", layer="predictions", filter=4, objective="logit", steps_per_octave=6,
                              octaves=1, final_size=32, step_size=4.0)
    result = render(settings, tiny_model)
    network, softmax = pre_activation_model(tiny_model.model, "predictions")
    logits = network(tiny_model.preprocess(tf.constant(result.image[None], tf.float32))).numpy()[0]
    assert result.final_activation == pytest.approx(float(logits[4]), rel=1e-2, abs=1e-3)  # bfloat16 CPUs: 3 digits
    assert result.final_activation != pytest.approx(float(softmax(logits[None]).numpy()[0, 4]), abs=1e-3)


def test_logit_objective_says_when_a_model_has_no_classifier(tiny_model):
    conv_only = RenderSettings(model="tiny", layer="block2_conv1", objective="logit")
    with pytest.raises(ValueError, match="objective 'logit' needs the classifier layer \\(predictions\\)"):
        conv_only.check_layer(tiny_model.layers)
    headless = [info for info in tiny_model.layers if info.kind != "Dense"]
    with pytest.raises(ValueError, match="has none"):
        conv_only.check_layer(headless)


@pytest.mark.slow
def test_robust_preset_runs_on_a_mobilenet_architecture():
    """Depthwise convs, batch norm and ReLU6 layers (random weights: no download here)."""
    import keras

    from featviz_core.models import LoadedModel

    network = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(None, None, 3))
    loaded = LoadedModel("mobilenetv2-random", "test", network, keras.applications.mobilenet_v2.preprocess_input)
    layer = "block_3_depthwise"
    assert any(info.name == layer and info.kind == "DepthwiseConv2D" for info in loaded.layers)
    from featviz_core.settings import preset

    settings = preset("robust", model=loaded.name, layer=layer, filter=5, final_size=64, octaves=2, steps_per_octave=4)
    result = render(settings, loaded)
    assert result.image.shape == (64, 64, 3) and np.isfinite(result.losses).all()
    assert result.steps_run == settings.total_steps == 4 * 2 + settings.final_steps
