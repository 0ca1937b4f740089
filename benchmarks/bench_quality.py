"""Picture quality of the presets on vgg16-offline, measured with featviz_core.quality.

    python benchmarks/bench_quality.py                 # 8 filters each of block3_conv3, block4_conv3, block5_conv3
    python benchmarks/bench_quality.py --dead-count 64 # also: dead filters among the first 64 of block5_conv3

For each preset it prints the median act, robust and hf, the dead rate and the time spent rendering, then
checks the issue's targets: the default preset's median robustness at least 0.1 above classic's,
its median hf no higher, no filter dead where classic's picture was alive, and a render time no
longer than classic's. A picture counts as dead (robust 0) when its render found the filter dead:
the classic rule stops such a filter at zero output and its picture is little more than the start
image, however the model's own preprocessing reads it.
"""

from __future__ import annotations

import argparse
import time

MODEL = "vgg16-offline"
LAYERS = {"block3_conv3": 256, "block4_conv3": 512, "block5_conv3": 512}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-layer", type=int, default=8, help="filters per layer, chosen with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presets", default="classic,robust,quick")
    parser.add_argument("--per-filter", action="store_true", help="also print every filter's figures")
    parser.add_argument("--dead-count", type=int, default=0, help="count dead filters among the first N of block5_conv3")
    return parser.parse_args()


def chosen_filters(per_layer: int, seed: int) -> dict[str, list[int]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return {layer: sorted(int(i) for i in rng.choice(count, per_layer, replace=False)) for layer, count in LAYERS.items()}


def render_and_measure(settings, filters, loaded, meter) -> tuple[list, float]:
    """Render `filters` in batches; return their Quality records and the seconds spent rendering
    (measuring the pictures is not part of a preset's render time)."""
    from featviz_core.ascent import batch_limit, render_batch

    results, batch, began = [], batch_limit(settings), time.perf_counter()
    for first in range(0, len(filters), batch):
        results += render_batch(settings, filters[first:first + batch], loaded)
    seconds = time.perf_counter() - began
    return [meter.measure(result.image, result.settings.filter, result.dead) for result in results], seconds


def count_dead(preset_name: str, first: int, loaded) -> int:
    """Dead filters among the first `first` of block5_conv3 (classic stops after its first octave:
    that is where the classic method loses them)."""
    from featviz_core.ascent import batch_limit, render_batch
    from featviz_core.settings import preset

    settings = preset(preset_name, model=MODEL, layer="block5_conv3")
    limit = settings.steps_per_octave if preset_name == "classic" else settings.total_steps
    dead, batch = 0, batch_limit(settings)
    for start in range(0, first, batch):
        results = render_batch(settings, list(range(start, min(start + batch, first))), loaded,
                               on_progress=lambda event: event.step < limit)
        dead += sum(result.dead or result.final_activation <= 1e-7 for result in results)
    return dead


def main() -> None:
    args = parse_args()
    from featviz_core.cli import mute_native_logs

    mute_native_logs()  # TensorFlow's C++ start-up lines (FEATVIZ_NATIVE_LOGS=1 keeps them)
    from featviz_core.ascent import cached_model
    from featviz_core.quality import QualityMeter, median_table
    from featviz_core.settings import DEFAULT_PRESET, preset

    loaded = cached_model(MODEL)
    filters = chosen_filters(args.per_layer, args.seed)
    meters = {layer: QualityMeter(loaded, layer) for layer in LAYERS}
    print(f"model {MODEL}; filters (seed {args.seed}): {filters}")
    by_preset, by_layer, seconds = {}, {}, {}
    for name in args.presets.split(","):
        seconds[name] = 0.0
        for layer, indices in filters.items():
            settings = preset(name, model=MODEL, layer=layer)
            by_layer[f"{name} · {layer}"], render_seconds = render_and_measure(settings, indices, loaded, meters[layer])
            seconds[name] += render_seconds
        by_preset[name] = [quality for key, qualities in by_layer.items() if key.startswith(f"{name} ·")
                           for quality in qualities]

    print("\n| preset | median act | median robust | median hf | dead rate | render time |")
    print("| --- | --- | --- | --- | --- | --- |")
    if args.per_filter:
        for key, qualities in by_layer.items():
            name, layer = key.split(" · ")
            for index, quality in zip(filters[layer], qualities):
                print(f"{name} {layer} {index}: act {quality.act:.3f} robust {quality.robust:.3f} "
                      f"hf {quality.hf:.5f}{' dead' if quality.dead else ''}")
    for row in median_table(by_preset) + median_table(by_layer):
        name = row["method"]
        rendered = f"{seconds[name]:.0f} s" if name in seconds else ""
        print(f"| {name} | {row['act']:.2f} | {row['robust']:.3f} | {row['hf']:.5f} | {row['dead_rate']:.0%} | {rendered} |")

    if "classic" in by_preset and DEFAULT_PRESET in by_preset:
        table = {row["method"]: row for row in median_table(by_preset)}
        classic, default = table["classic"], table[DEFAULT_PRESET]
        newly_dead = sum(c.act > 1e-7 and d.dead for c, d in zip(by_preset["classic"], by_preset[DEFAULT_PRESET]))
        print(f"\n{DEFAULT_PRESET} vs classic: robust {default['robust'] - classic['robust']:+.3f} (target >= +0.1), "
              f"hf {default['hf'] - classic['hf']:+.5f} (target <= 0), filters dead only with {DEFAULT_PRESET}: "
              f"{newly_dead} (target 0), render time {seconds[DEFAULT_PRESET] / seconds['classic']:.2f}x classic's "
              f"(target <= 1)")
        both = [(c, d) for c, d in zip(by_preset["classic"], by_preset[DEFAULT_PRESET]) if not (c.dead or d.dead)]
        alive = median_table({"classic": [c for c, _ in both], DEFAULT_PRESET: [d for _, d in both]})
        print(f"on the {len(both)} filters alive with both: " + ", ".join(f"{row['method']} robust {row['robust']:.3f} hf "
                                                         f"{row['hf']:.5f}" for row in alive))

    if args.dead_count:
        for name in ("classic", DEFAULT_PRESET):
            print(f"dead among the first {args.dead_count} filters of block5_conv3, {name}: "
                  f"{count_dead(name, args.dead_count, loaded)}")


if __name__ == "__main__":
    main()
