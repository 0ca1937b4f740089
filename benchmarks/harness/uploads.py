"""Files a visitor uploads: Keras models and a zip of images (Keras and NumPy imported only when called)."""

from __future__ import annotations

from pathlib import Path


def grayscale_digits_model(path: Path) -> Path:
    """A small untrained (seeded) 28x28 grayscale model with BatchNorm, saved as a .keras file."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2D(8, 3, activation="relu", name="digits_conv1"),
                              keras.layers.BatchNormalization(name="digits_bn"),
                              keras.layers.Conv2D(8, 3, activation="relu", name="digits_conv2"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, name="digits_head")],
                             name="digits")
    model.save(path)
    return path


def vgg16_sized_model(path: Path) -> Path:
    """Keras' VGG16 without its head, random weights (56 MB), saved as a .keras file."""
    import keras

    keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3)).save(path)
    return path


def image_zip(path: Path) -> Path:
    """Stripes at four angles, two flat colours and one file that is not an image."""
    import zipfile

    import numpy as np
    from featviz_core.imaging import png_bytes

    grid = np.mgrid[0:96, 0:96].astype(float)
    with zipfile.ZipFile(path, "w") as archive:
        for angle in (0, 45, 90, 135):
            direction = np.cos(np.radians(angle)) * grid[1] + np.sin(np.radians(angle)) * grid[0]
            stripes = ((np.sin(direction / 3) > 0) * 255).astype(np.uint8)
            archive.writestr(f"stripes_{angle}.png", png_bytes(np.repeat(stripes[..., None], 3, axis=2)))
        for name, colour in (("black", 0), ("white", 255)):
            archive.writestr(f"{name}.png", png_bytes(np.full((64, 64, 3), colour, np.uint8)))
        archive.writestr("notes.png", b"this is not an image")
    return path
