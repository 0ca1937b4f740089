"""Small seeded, untrained Keras models of the shapes users bring, and model files featviz must refuse.

Each builder returns a tiny model (a few conv filters) that renders in well under a second; `save`
writes it as a .keras file the way a user would (model.save)."""

from __future__ import annotations

from pathlib import Path

import keras


def _conv(filters: int, name: str, seed: int, **options) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=name,
                               kernel_initializer=keras.initializers.HeNormal(seed=seed),
                               bias_initializer=keras.initializers.Constant(0.05), **options)


def _softmax_head(classes: int, seed: int) -> keras.layers.Dense:
    return keras.layers.Dense(classes, activation="softmax", name="predictions",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=seed))


def gray28() -> keras.Model:
    """MNIST-shaped: 28x28x1 input, conv + BatchNorm, a Flatten (so the size is fixed), a softmax head."""
    inputs = keras.Input((28, 28, 1))
    x = _conv(4, "conv1", 1)(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = _conv(6, "conv2", 2)(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = _softmax_head(10, seed=3)(x)
    return keras.Model(inputs, outputs, name="gray28")


def rgba64() -> keras.Model:
    """Four input channels at a fixed 64x64."""
    inputs = keras.Input((64, 64, 4))
    x = _conv(4, "conv1", 4)(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = _conv(6, "conv2", 5)(x)
    return keras.Model(inputs, x, name="rgba64")


def any_size_classifier() -> keras.Model:
    """RGB of any size, global pooling and a 5-class softmax head."""
    inputs = keras.Input((None, None, 3))
    x = _conv(4, "conv1", 6)(inputs)
    x = _conv(6, "conv2", 7)(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = _softmax_head(5, seed=8)(x)
    return keras.Model(inputs, outputs, name="anysize")


def nested() -> keras.Model:
    """The conv layers inside a nested Sequential base (like a pretrained backbone), then a head."""
    base = keras.Sequential([keras.Input((None, None, 3)), _conv(4, "base_conv1", 9),
                             keras.layers.BatchNormalization(name="base_bn"), _conv(6, "base_conv2", 10)],
                            name="base")
    inputs = keras.Input((None, None, 3))
    x = base(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, name="logits", kernel_initializer=keras.initializers.GlorotUniform(seed=11))(x)
    return keras.Model(inputs, outputs, name="nested")


GOOD = {"gray28": gray28, "rgba64": rgba64, "anysize": any_size_classifier, "nested": nested}


# --- models featviz refuses -----------------------------------------------------------------------

def with_lambda() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    x = _conv(2, "conv1", 0)(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(x)
    return keras.Model(inputs, x)


@keras.saving.register_keras_serializable(package="featviz_tests")
class Doubling(keras.layers.Layer):
    """A custom layer: registered while the test saves it, unknown to the process that loads it."""

    def call(self, inputs):
        return inputs * 2.0


def with_custom_layer() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    x = _conv(2, "conv1", 0)(inputs)
    return keras.Model(inputs, Doubling(name="doubling")(x))


def without_conv() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    return keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Flatten()(inputs)))


def vector_input() -> keras.Model:
    inputs = keras.Input((10,))
    return keras.Model(inputs, keras.layers.Dense(4, activation="relu")(keras.layers.Dense(8)(inputs)))


def save(model: keras.Model, path: Path) -> Path:
    model.save(path)
    return path


def unregister_custom_layer() -> None:
    """Forget Doubling, as a fresh process that never imported this module would."""
    keras.saving.get_custom_objects().pop("featviz_tests>Doubling", None)
