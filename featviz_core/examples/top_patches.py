"""Dataset examples: for each filter of a layer, the image patches of a set that excite it most.

As OpenAI Microscope and Distill show them: one batched pass over the image set scores every filter
of the layer at once (the maximum of its output over positions, and where), each filter keeps its
`top` best images, and every maximum is mapped back to the box of the original image it sees (the
layer's receptive field, computed analytically from the conv and pooling layers on the way).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from featviz_core.examples.image_sets import ImageSet
from featviz_core.imaging import match_channels
from featviz_core.models import LoadedModel, feature_model

WORKING_SIZE = 224  # shorter side of each image as the network sees it (models without a fixed input size)
MAX_ASPECT = 4  # longer side at most this many times the shorter one
BATCH = 2  # images per pass: block5_conv3 peaks at +230 MB (8 at once: +490 MB) and runs no slower (bench_examples.py)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Example:
    """One dataset example: the image (name and index in the set), the box [x, y, w, h] in its original
    pixels that the filter's strongest position sees, and that activation."""

    image: str
    image_index: int
    box: tuple[int, int, int, int]
    activation: float


@dataclass(frozen=True)
class LayerExamples:
    """The top examples of every filter of a layer (`examples[filter]`, best first, distinct images)."""

    model: str
    layer: str
    image_set: str  # the set's identity
    top: int
    filters: int
    examples: tuple[tuple[Example, ...], ...]
    skipped: int
    seconds: float
    images_per_second: float
    channel_mean: tuple[float, ...] = ()  # each filter's mean output over every position of every image
    channel_std: tuple[float, ...] = ()  # and its spread

    def of(self, filter_index: int) -> tuple[Example, ...]:
        return self.examples[filter_index]


# --- receptive fields -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceptiveField:
    """Where the units of a layer look, per axis (y, x), in the pixels of the input image.

    Unit (i, j) sees the `size` pixels centred on `start + (i, j) * jump` (pixel k's centre is at k);
    `extent` is the layer's output size; `whole` marks outputs without positions (they see everything).
    """

    size: tuple[float, float] = (1.0, 1.0)
    jump: tuple[float, float] = (1.0, 1.0)
    start: tuple[float, float] = (0.0, 0.0)
    extent: tuple[int, int] = (0, 0)
    whole: bool = False

    def box(self, row: int, column: int, height: int, width: int) -> tuple[int, int, int, int]:
        """[x, y, w, h] of unit (row, column), clipped to a height x width input image."""
        if self.whole:
            return (0, 0, width, height)
        spans = []
        for axis, (index, limit) in enumerate(((row, height), (column, width))):
            centre = self.start[axis] + index * self.jump[axis]
            low = max(0, math.floor(centre - (self.size[axis] - 1) / 2 + 1e-9))
            high = min(limit, math.ceil(centre + (self.size[axis] - 1) / 2 + 1 - 1e-9))
            low = min(low, limit - 1)
            spans.append((low, max(high, low + 1)))
        (top, bottom), (left, right) = spans
        return (left, top, right - left, bottom - top)


def _pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


def _window(field: ReceptiveField, kernel, strides, dilation, padding: str) -> ReceptiveField:
    """A conv or pooling window (TensorFlow's "same" puts the smaller half of the padding first)."""
    kernel, strides, dilation = _pair(kernel), _pair(strides), _pair(dilation)
    size, jump, start, extent = [], [], [], []
    for axis in range(2):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        n, s = field.extent[axis], strides[axis]
        if padding == "same":
            out = -(-n // s)
            before = max((out - 1) * s + span - n, 0) // 2
        else:
            out = max((n - span) // s + 1, 0)
            before = 0
        size.append(field.size[axis] + (span - 1) * field.jump[axis])
        start.append(field.start[axis] + ((span - 1) / 2 - before) * field.jump[axis])
        jump.append(field.jump[axis] * s)
        extent.append(out)
    return ReceptiveField(tuple(size), tuple(jump), tuple(start), tuple(extent))


def _apply(layer: keras.layers.Layer, fields: list[ReceptiveField], target: str) -> list[ReceptiveField]:
    """The fields of a layer's outputs from those of its inputs (several inputs: the widest one)."""
    if isinstance(layer, keras.Model):
        return _walk(layer, fields, target)
    field = max(fields, key=lambda f: (f.whole, f.size))
    if field.whole:
        return [field]
    config = layer.get_config() if hasattr(layer, "get_config") else {}
    if isinstance(layer, keras.layers.Conv2DTranspose):
        strides = _pair(config.get("strides", 1))
        return [ReceptiveField(field.size, tuple(j / s for j, s in zip(field.jump, strides)), field.start,
                               tuple(n * s for n, s in zip(field.extent, strides)))]
    if "kernel_size" in config and len(_pair(config["kernel_size"])) == 2 and getattr(layer, "rank", 2) == 2:
        return [_window(field, config["kernel_size"], config.get("strides", 1), config.get("dilation_rate", 1),
                        config.get("padding", "valid"))]
    if "pool_size" in config and "Global" not in type(layer).__name__:
        pool = config["pool_size"]
        strides = config.get("strides") or pool
        return [_window(field, pool, strides, 1, config.get("padding", "valid"))]
    if isinstance(layer, keras.layers.ZeroPadding2D):
        (top, bottom), (left, right) = layer.padding
        return [ReceptiveField(field.size, field.jump,
                               (field.start[0] - top * field.jump[0], field.start[1] - left * field.jump[1]),
                               (field.extent[0] + top + bottom, field.extent[1] + left + right))]
    if isinstance(layer, keras.layers.Cropping2D):
        (top, bottom), (left, right) = layer.cropping
        return [ReceptiveField(field.size, field.jump,
                               (field.start[0] + top * field.jump[0], field.start[1] + left * field.jump[1]),
                               (field.extent[0] - top - bottom, field.extent[1] - left - right))]
    if isinstance(layer, keras.layers.UpSampling2D):
        factor = _pair(layer.size)
        return [ReceptiveField(field.size, tuple(j / f for j, f in zip(field.jump, factor)),
                               tuple(s - (f - 1) / (2 * f) * j for s, f, j in zip(field.start, factor, field.jump)),
                               tuple(n * f for n, f in zip(field.extent, factor)))]
    output = getattr(layer, "output", None)
    if output is not None and len(output.shape) != 4:
        return [ReceptiveField(field.size, field.jump, field.start, field.extent, whole=True)]
    return [field]  # elementwise, normalization, activation, merge...: the same positions


class _Found(Exception):
    def __init__(self, field: ReceptiveField) -> None:
        super().__init__()
        self.field = field


def _walk(model: keras.Model, inputs: list[ReceptiveField], target: str) -> list[ReceptiveField]:
    """Propagate fields through a model's graph (nested models too); raise _Found at the target layer."""
    if isinstance(model, keras.Sequential):
        fields = inputs
        for layer in model.layers:
            fields = _apply(layer, fields, target)
            if layer.name == target:
                raise _Found(fields[0])
        return fields
    known = {id(tensor): field for tensor, field in zip(model.inputs, inputs)}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            tensors = keras.tree.flatten(node.input_tensors)
            fields = [known.get(id(tensor)) for tensor in tensors]
            if not fields or any(field is None for field in fields):
                continue  # a node of another graph (the layer reused elsewhere)
            outputs = _apply(layer, fields, target)
            if layer.name == target:
                raise _Found(outputs[0])
            for tensor, field in zip(keras.tree.flatten(node.outputs), outputs * len(node.outputs)):
                known[id(tensor)] = field
    return [known.get(id(tensor), ReceptiveField(whole=True)) for tensor in model.outputs]


def receptive_field(model: keras.Model, layer_name: str, input_size: tuple[int, int]) -> ReceptiveField:
    """The receptive field of `layer_name`'s units for a (height, width) input image, analytically."""
    try:
        _walk(model, [ReceptiveField(extent=(int(input_size[0]), int(input_size[1])))], layer_name)
    except _Found as found:
        return found.field
    raise ValueError(f"layer {layer_name!r} is not in {model.name}")


# --- scoring ----------------------------------------------------------------------------------------

def working_size(shape: tuple[int, ...], fixed: tuple[int, int] | None, size: int = WORKING_SIZE) -> tuple[int, int]:
    """(height, width) an image of `shape` is scored at: the model's fixed size, else shorter side `size`."""
    if fixed is not None:
        return fixed
    height, width = shape[:2]
    scale = size / min(height, width)
    long_side = size * MAX_ASPECT
    return (max(1, min(long_side, round(height * scale))), max(1, min(long_side, round(width * scale))))


def _working_pixels(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if pixels.shape[:2] == shape:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize((shape[1], shape[0]), Image.Resampling.BILINEAR))


def layer_examples(loaded: LoadedModel, layer: str, image_set: ImageSet, top: int = 9,
                   preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None, progress: Progress | None = None,
                   size: int = WORKING_SIZE, batch: int = BATCH) -> LayerExamples:
    """The `top` images of `image_set` that excite each filter of `layer` most, with the boxes they see.

    One pass over the set for the whole layer: images are resized to the model's fixed input size, or
    to shorter side `size`, batched by shape, fed through `preprocess` (default the model's own, on
    float RGB 0..255) and reduced to each filter's maximum and its position per batch.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1; got {top}")
    began = time.perf_counter()
    preprocess = preprocess or loaded.preprocess
    network = feature_model(loaded.model, layer)
    channels = loaded.channels
    fixed = loaded.input_size
    filters = int(network.outputs[0].shape[-1])
    wants_list = isinstance(network.input, (list, tuple))  # called as built: no Keras structure warning
    total = len(image_set.images)
    shapes = [working_size(image.pixels.shape, fixed, size) for image in image_set.images]
    sums, squares, positions_seen = np.zeros(filters), np.zeros(filters), 0
    maxima = np.full((total, filters), -np.inf, dtype=np.float32)
    positions = np.zeros((total, filters), dtype=np.int64)
    grids: dict[int, tuple[int, int]] = {}
    groups: dict[tuple[int, int], list[int]] = {}
    for index, shape in enumerate(shapes):
        groups.setdefault(shape, []).append(index)
    done = 0
    if progress:
        progress(0, total)
    for shape, indices in groups.items():
        for first in range(0, len(indices), max(1, batch)):
            chunk = indices[first:first + max(1, batch)]
            pixels = np.stack([match_channels(_working_pixels(image_set.images[i].pixels, shape), channels)
                               for i in chunk]).astype(np.float32)
            batch_input = preprocess(tf.constant(pixels))
            output = tf.cast(network([batch_input] if wants_list else batch_input, training=False), tf.float32)
            if len(output.shape) == 4:
                rows, columns = int(output.shape[1]), int(output.shape[2])
                flat = tf.reshape(output, (len(chunk), rows * columns, filters))
                best, where = tf.reduce_max(flat, axis=1), tf.argmax(flat, axis=1)
                sums += tf.reduce_sum(flat, axis=[0, 1]).numpy()
                squares += tf.reduce_sum(tf.square(flat), axis=[0, 1]).numpy()
                positions_seen += len(chunk) * rows * columns
            else:
                rows = columns = 1
                best = tf.reshape(output, (len(chunk), filters))
                where = tf.zeros_like(best, dtype=tf.int64)
            maxima[chunk] = np.nan_to_num(best.numpy(), nan=-np.inf)
            positions[chunk] = where.numpy()
            for i in chunk:
                grids[i] = (rows, columns)
            del output
            done += len(chunk)
            if progress:
                progress(done, total)
    fields = {shape: receptive_field(loaded.model, layer, shape) for shape in groups}
    order = np.argsort(-maxima, axis=0, kind="stable")[:top]  # (top, filters): best images per filter
    examples = []
    for unit in range(filters):
        found = []
        for index in order[:, unit]:
            index = int(index)
            image = image_set.images[index]
            rows, columns = grids[index]
            row, column = divmod(int(positions[index, unit]), columns)
            box = _original_box(fields[shapes[index]], row, column, shapes[index], image.pixels.shape[:2])
            found.append(Example(image.name, index, box, float(maxima[index, unit])))
        examples.append(tuple(found))
    seconds = time.perf_counter() - began
    mean = sums / max(positions_seen, 1)
    std = np.sqrt(np.maximum(squares / max(positions_seen, 1) - mean ** 2, 0.0))
    return LayerExamples(loaded.name, layer, image_set.identity, top, filters, tuple(examples),
                         len(image_set.skipped), seconds, total / seconds if seconds > 0 else 0.0,
                         tuple(mean.tolist()), tuple(std.tolist()))


def _original_box(field: ReceptiveField, row: int, column: int, working: tuple[int, int],
                  original: tuple[int, int]) -> tuple[int, int, int, int]:
    """The unit's box in the working image, scaled to the original image's pixels."""
    x, y, w, h = field.box(row, column, working[0], working[1])
    sy, sx = original[0] / working[0], original[1] / working[1]
    left, top = math.floor(x * sx), math.floor(y * sy)
    right, bottom = min(original[1], math.ceil((x + w) * sx)), min(original[0], math.ceil((y + h) * sy))
    left, top = min(left, original[1] - 1), min(top, original[0] - 1)
    return (left, top, max(1, right - left), max(1, bottom - top))


# --- pictures ---------------------------------------------------------------------------------------

def patch(image_set: ImageSet, example: Example, size: int = 96) -> np.ndarray:
    """The example's box cut from its image, resized to size x size (uint8 RGB)."""
    pixels = image_set.images[example.image_index].pixels
    x, y, w, h = example.box
    crop = pixels[y:y + h, x:x + w]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BICUBIC))


def tiled_patch(image_set: ImageSet, example: Example, fixed: tuple[int, int] | None, size: int) -> np.ndarray:
    """A size x size uint8 RGB image tiled with the example's patch, each copy at the scale the network
    saw it (`working_size`), so that the filter fires all over the image as it did on the photo."""
    pixels = image_set.images[example.image_index].pixels
    seen_height, seen_width = working_size(pixels.shape, fixed)
    x, y, width, height = example.box
    scaled = (max(1, round(width * seen_width / pixels.shape[1])), max(1, round(height * seen_height / pixels.shape[0])))
    patch = np.asarray(Image.fromarray(pixels[y:y + height, x:x + width]).resize(scaled, Image.Resampling.BICUBIC))
    repeats = (-(-size // patch.shape[0]), -(-size // patch.shape[1]), 1)
    return np.tile(patch, repeats)[:size, :size]


LABEL_WIDTH = 72
TEXT_HEIGHT = 14
GAP = 4


def examples_sheet(image_set: ImageSet, result: LayerExamples, filters: Sequence[int] | None = None,
                   size: int = 96, pictures: Mapping[int, np.ndarray] | None = None) -> np.ndarray:
    """A grid (uint8 RGB) with one row per filter: its label, its optimized picture first when
    `pictures` has one, then its top patches best first, each with its activation under it."""
    filters = list(range(result.filters)) if filters is None else list(filters)
    pictures = pictures or {}
    lead = size + 2 * GAP if any(index in pictures for index in filters) else 0
    columns = max((len(result.examples[index]) for index in filters), default=0)
    width = LABEL_WIDTH + lead + columns * (size + GAP) + GAP
    row_height = size + TEXT_HEIGHT + GAP
    sheet = Image.new("RGB", (width, GAP + row_height * max(1, len(filters))), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for row, index in enumerate(filters):
        top = GAP + row * row_height
        draw.text((GAP, top + size // 2 - 6), f"filter {index}", fill=(0, 0, 0))
        if index in pictures:
            picture = Image.fromarray(np.asarray(pictures[index], dtype=np.uint8)).resize((size, size))
            sheet.paste(picture, (LABEL_WIDTH, top))
            draw.text((LABEL_WIDTH, top + size + 1), "optimized", fill=(90, 90, 90))
        for column, example in enumerate(result.examples[index]):
            left = LABEL_WIDTH + lead + column * (size + GAP)
            sheet.paste(Image.fromarray(patch(image_set, example, size)), (left, top))
            draw.text((left, top + size + 1), f"{example.activation:.3g}", fill=(0, 0, 0))
    return np.asarray(sheet)


def examples_json(image_set: ImageSet, result: LayerExamples, filters: Sequence[int] | None = None) -> dict:
    """The documented JSON of the `featviz examples` command (filters as string keys, best first)."""
    filters = list(range(result.filters)) if filters is None else list(filters)
    return {
        "model": result.model, "layer": result.layer, "images": len(image_set.images),
        "skipped": [list(item) for item in image_set.skipped],
        "filters": {str(index): [{"image": example.image, "box": list(example.box),
                                  "activation": example.activation} for example in result.examples[index]]
                    for index in filters},
    }
