"""Speed of the featviz engine against a plain eager TensorFlow port of the classic algorithm.

Everything is timed in one process, so the ratios hold even when the machine is noisy:

    python benchmarks/bench_engine.py                      # precision chosen for this hardware
    python benchmarks/bench_engine.py --precision float32  # the engine without bfloat16
    python benchmarks/bench_engine.py --skip-classic --gallery-filters 16   # a shorter run

It prints ms per step at 224 px, the ratio to the eager port, GFLOP/s as a share of a 3x3 conv
ceiling measured here, the quick preset's warm time, the classic preset end to end against the
eager port, and a batched gallery against single renders.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable

MODEL = "vgg16-offline"
LAYER = "block5_conv3"
GALLERY_LAYER = "block5_conv1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--skip-classic", action="store_true", help="skip the ~2 minute classic comparison")
    parser.add_argument("--gallery-filters", type=int, default=64, help="filters in the gallery comparison (0 skips)")
    return parser.parse_args()


def median_ms(function: Callable[[], object], repeats: int) -> float:
    """Median wall time of `function` in ms, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def vgg_flops(layer: str, size: int) -> float:
    """VGG16 conv FLOPs up to `layer` at `size` px (spatial size halves after each block)."""
    widths = {1: (3, 64, 64), 2: (64, 128, 128), 3: (128, 256, 256, 256), 4: (256, 512, 512, 512),
              5: (512, 512, 512, 512)}
    total, side = 0.0, size
    for block, channels in widths.items():
        for index in range(1, len(channels)):
            total += 2 * side * side * 9 * channels[index - 1] * channels[index]
            if f"block{block}_conv{index}" == layer:
                return total
        side //= 2
    return total


def conv_ceiling_gflops(dtype: str, repeats: int) -> float:
    """GFLOP/s of one 3x3 conv, 56x56x256 -> 256, forward: the practical ceiling here."""
    import tensorflow as tf

    x = tf.random.normal([1, 56, 56, 256], dtype=dtype)
    kernel = tf.random.normal([3, 3, 256, 256], dtype=dtype)
    conv = tf.function(lambda: tf.nn.conv2d(x, kernel, 1, "SAME"))
    ms = median_ms(lambda: conv().numpy(), repeats * 4)
    return 2 * 56 * 56 * 9 * 256 * 256 / (ms / 1000) / 1e9


def eager_classic(features, filter_index: int, settings, on_step: Callable[[], None] | None = None):
    """The classic algorithm written plainly in eager TensorFlow: the baseline."""
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    def deprocess(x):
        x = (x - x.mean()) / (x.std() + 1e-7) * 0.25 + 0.5
        return (np.clip(x, 0, 1) * 255).astype("uint8")

    rng = np.random.default_rng(settings.seed)
    image = (rng.random((1, settings.octave_sizes[0], settings.octave_sizes[0], 3)) - 0.5) * 20 + 128
    for octave, size in enumerate(list(settings.octave_sizes) + [settings.final_size]):
        if octave:
            mean, std = image.mean(), image.std()
            shown = Image.fromarray(deprocess(image[0])).resize((size, size), Image.Resampling.BICUBIC)
            image = ((np.asarray(shown)[None] / 255 - 0.5) * 4 * std + mean)
        if octave == settings.octaves:
            break
        for _ in range(settings.steps_per_octave):
            x = tf.constant(image, tf.float32)
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_mean(features(x)[..., filter_index])
            grads = tape.gradient(loss, x)
            grads = grads / (tf.sqrt(tf.reduce_mean(tf.square(grads))) + 1e-7)
            if float(loss) <= 1e-7:
                return deprocess(image[0])
            image = image + settings.step_size * grads.numpy()
            if on_step:
                on_step()
    return deprocess(image[0])


def main() -> None:
    args = parse_args()
    os.environ["FEATVIZ_PRECISION"] = args.precision
    from featviz_core.cli import mute_native_logs

    mute_native_logs()  # TensorFlow's C++ start-up lines (FEATVIZ_NATIVE_LOGS=1 keeps them)
    import numpy as np
    import tensorflow as tf

    from featviz_core.ascent import ascent_step, cached_model
    from featviz_core.rendering import render, render_batch
    from featviz_core.models.devices import device_name
    from featviz_core.models import feature_model
    from featviz_core.settings import preset

    loaded = cached_model(MODEL)
    engine = ascent_step(loaded, LAYER, preset("classic").method)  # the classic step: raw pixels, RMS
    eager_features = feature_model(loaded.model, LAYER)
    print(f"device: {device_name()}; engine precision: {engine.dtype}; model {MODEL}, layer {LAYER}")

    ceiling32 = conv_ceiling_gflops("float32", args.repeats)
    ceiling = ceiling32 if engine.dtype == "float32" else conv_ceiling_gflops(engine.dtype, args.repeats)
    print(f"conv ceiling (3x3, 56x56x256->256, 2 FLOP per multiply-add): float32 {ceiling32:.0f} GFLOP/s, "
          f"{engine.dtype} {ceiling:.0f} GFLOP/s")

    size, filter_index = 224, 3
    image = tf.constant((np.random.default_rng(0).random((1, size, size, 3)) - 0.5) * 20 + 128, tf.float32)
    filters = tf.constant([filter_index])

    def eager_step() -> None:
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = tf.reduce_mean(eager_features(image)[..., filter_index])
        grads = tape.gradient(loss, image)
        (image + grads / (tf.sqrt(tf.reduce_mean(tf.square(grads))) + 1e-7)).numpy()

    zeros = tf.zeros_like(image)

    def engine_step() -> None:
        engine.step(image, zeros, zeros, tf.constant(1.0), filters, tf.constant([0]), tf.constant(1.0),
                    tf.constant([False]), tf.constant(0))[0].numpy()

    eager_ms = median_ms(eager_step, args.repeats)
    engine_ms = median_ms(engine_step, args.repeats)
    step_gflop = 2 * vgg_flops(LAYER, size) / 1e9
    print(f"\n[step at {size} px] eager port {eager_ms:.0f} ms/step, engine {engine_ms:.0f} ms/step, "
          f"ratio {engine_ms / eager_ms:.2f}x (target <= 0.5x)")
    print(f"  a step is ~{step_gflop:.1f} GFLOP: engine {step_gflop / engine_ms * 1000:.0f} GFLOP/s = "
          f"{step_gflop / engine_ms * 1000 / ceiling:.0%} of the {engine.dtype} conv ceiling; eager port "
          f"{step_gflop / eager_ms * 1000:.0f} GFLOP/s = {step_gflop / eager_ms * 1000 / ceiling32:.0%} of float32's")

    quick = preset("quick", model=MODEL, layer=LAYER, filter=filter_index)
    render(quick, loaded)  # warm: traces the step once
    began = time.perf_counter()
    result = render(quick, loaded)
    print(f"\n[quick preset, warm] {LAYER}:{filter_index} {result.steps_run} steps, sizes {quick.octave_sizes} -> "
          f"{quick.final_size}: {time.perf_counter() - began:.1f} s (target <= 10 s)")

    if not args.skip_classic:
        classic = preset("classic", model=MODEL, layer=LAYER, filter=filter_index)
        began = time.perf_counter()
        eager_classic(eager_features, filter_index, classic)
        eager_s = time.perf_counter() - began
        began = time.perf_counter()
        render(classic, loaded)
        engine_s = time.perf_counter() - began
        print(f"\n[classic preset end to end, {classic.total_steps} steps, 79 -> 412 px] eager port {eager_s:.1f} s, "
              f"engine {engine_s:.1f} s, ratio {engine_s / eager_s:.2f}x (target <= 0.6x)")

    if args.gallery_filters:
        gallery = preset("quick", model=MODEL, layer=GALLERY_LAYER)
        indices = list(range(args.gallery_filters))
        render(gallery, loaded)  # warm
        began = time.perf_counter()
        singles = [render(gallery.with_changes(filter=index), loaded) for index in indices]
        single_s = time.perf_counter() - began
        began = time.perf_counter()
        batched = [r for first in range(0, len(indices), 16) for r in render_batch(gallery, indices[first:first + 16], loaded)]
        batch_s = time.perf_counter() - began
        dead = sum(r.dead for r in singles), sum(r.dead for r in batched)
        print(f"\n[gallery {GALLERY_LAYER}, {len(indices)} filters, quick preset] single renders {single_s:.1f} s, "
              f"batched (16 per pass) {batch_s:.1f} s, ratio {batch_s / single_s:.2f}x (target <= 0.8x); "
              f"dead filters {dead[0]} single / {dead[1]} batched")


if __name__ == "__main__":
    main()
