"""Picture quality and render time of the presets, and of each speed lever tried, on vgg16-offline.

    python benchmarks/bench_quality.py                    # 4 filters each of block3_conv3, block4_conv3, block5_conv3
    python benchmarks/bench_quality.py --per-layer 8 --dead-count 64
    python benchmarks/bench_quality.py --levers none      # the presets only

Every row renders the same filters, one at a time (as Explore does), in one run. For each row it
prints the median act, robust and hf (featviz_core.quality), the dead count, the render time, and that
time as a ratio of classic's on the filters classic keeps alive (classic stops a dead filter after a
step or two, so a mixed set would flatter it). Then it checks the default preset against the goal:
median robust >= 0.95, median hf <= 0.005, render time <= 0.3x classic's; with --dead-count N, also
at most 2 dead among the first N filters of block5_conv3.

Lever rows change one thing of the default preset (or undo one of its choices) so that each row
says what that lever is worth.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

MODEL = "vgg16-offline"
LAYERS = {"block3_conv3": 256, "block4_conv3": 512, "block5_conv3": 512}
GOAL = dict(robust=0.95, hf=0.005, ratio=0.3, dead=2)

# name -> overrides of the default preset: one lever per row.
LEVERS: dict[str, dict[str, object]] = {
    "0.2 robust: 12 steps/octave": dict(steps_per_octave=12, warmup_steps=10),
    "4 steps/octave": dict(steps_per_octave=4, warmup_steps=4),
    "4 octaves x1.5": dict(octaves=4, upscale_factor=1.5),
    "nadam": dict(optimizer="nadam"),
    "maco (phase only)": dict(parameterization="maco", step_size=0.5),
    "jitter only": dict(transforms="jitter"),
}


@dataclass
class Row:
    """One preset or lever: its settings and what rendering the filters gave."""

    name: str
    overrides: dict[str, object]
    base: str
    qualities: list | None = None
    seconds: dict[tuple[str, int], float] | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-layer", type=int, default=4, help="filters per layer, chosen with --seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presets", default="classic,DEFAULT,quick", help="DEFAULT: the dashboard's default preset")
    parser.add_argument("--levers", default="all", help="all, none, or names from LEVERS, comma-separated")
    parser.add_argument("--per-filter", action="store_true", help="also print every filter's figures")
    parser.add_argument("--dead-count", type=int, default=0, help="count dead filters among the first N of block5_conv3")
    return parser.parse_args()


def chosen_filters(per_layer: int, seed: int) -> list[tuple[str, int]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [(layer, int(index)) for layer, count in LAYERS.items()
            for index in sorted(rng.choice(count, per_layer, replace=False))]


def measure_row(row: Row, filters: list[tuple[str, int]], loaded, meters) -> None:
    """Render each filter alone (after one compile run per layer) and measure its picture."""
    from featviz_core.ascent import render
    from featviz_core.settings import preset

    row.qualities, row.seconds = [], {}
    compiled = set()
    for layer, index in filters:
        settings = preset(row.base, model=MODEL, layer=layer, filter=index, **row.overrides)
        if layer not in compiled:  # tracing the step is a one-off cost, not render time
            render(settings, loaded, on_progress=lambda event: event.step < 2)
            compiled.add(layer)
        began = time.perf_counter()
        result = render(settings, loaded)
        row.seconds[(layer, index)] = time.perf_counter() - began
        row.qualities.append(meters[layer].measure(result.measured_image, index, result.dead))


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


def time_ratio(row: Row, classic: Row, filters: list[tuple[str, int]]) -> tuple[float, int]:
    """(row's time / classic's time on the filters classic keeps alive, how many those are)."""
    alive = [key for key, quality in zip(filters, classic.qualities) if not quality.dead]
    if not alive:
        return float("nan"), 0
    return sum(row.seconds[key] for key in alive) / sum(classic.seconds[key] for key in alive), len(alive)


def main() -> None:
    args = parse_args()
    from featviz_core.cli import mute_native_logs

    mute_native_logs()  # TensorFlow's C++ start-up lines (FEATVIZ_NATIVE_LOGS=1 keeps them)
    from featviz_core.ascent import cached_model
    from featviz_core.quality import QualityMeter, median_table
    from featviz_core.settings import DEFAULT_PRESET

    presets = [DEFAULT_PRESET if name == "DEFAULT" else name for name in args.presets.split(",")]
    if "classic" not in presets:
        presets.insert(0, "classic")
    levers = {} if args.levers == "none" else LEVERS if args.levers == "all" else \
        {name: LEVERS[name] for name in args.levers.split(",")}
    rows = [Row(name, {}, name) for name in presets]
    rows += [Row(f"lever: {name}", overrides, DEFAULT_PRESET) for name, overrides in levers.items()]

    loaded = cached_model(MODEL)
    filters = chosen_filters(args.per_layer, args.seed)
    meters = {layer: QualityMeter(loaded, layer) for layer in LAYERS}
    print(f"model {MODEL}; default preset {DEFAULT_PRESET}; filters (seed {args.seed}): {filters}", flush=True)
    for row in rows:
        measure_row(row, filters, loaded, meters)
        print(f"  measured {row.name}: {sum(row.seconds.values()):.0f} s", flush=True)

    classic = rows[0]
    print("\n| row | median act | median robust | median hf | dead | render time | time vs classic (alive) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    table = {item["method"]: item for item in median_table({row.name: row.qualities for row in rows})}
    for row in rows:
        item, (ratio, alive) = table[row.name], time_ratio(row, classic, filters)
        dead = sum(quality.dead for quality in row.qualities)
        print(f"| {row.name} | {item['act']:.2f} | {item['robust']:.3f} | {item['hf']:.5f} | {dead} | "
              f"{sum(row.seconds.values()):.0f} s | {ratio:.2f}x on {alive} |")
        if args.per_filter:
            for (layer, index), quality in zip(filters, row.qualities):
                print(f"    {layer} {index}: act {quality.act:.3f} robust {quality.robust:.3f} hf {quality.hf:.5f}"
                      f"{' dead' if quality.dead else ''} {row.seconds[(layer, index)]:.1f} s")

    default = next(row for row in rows if row.name == DEFAULT_PRESET)
    item, (ratio, alive) = table[default.name], time_ratio(default, classic, filters)
    print(f"\ngoal for {DEFAULT_PRESET}: median robust {item['robust']:.3f} (>= {GOAL['robust']}), median hf "
          f"{item['hf']:.5f} (<= {GOAL['hf']}), time {ratio:.2f}x classic's on the {alive} filters classic keeps "
          f"alive (<= {GOAL['ratio']})")
    if args.dead_count:
        for name in ("classic", DEFAULT_PRESET):
            print(f"dead among the first {args.dead_count} filters of block5_conv3, {name}: "
                  f"{count_dead(name, args.dead_count, loaded)}" + (f" (<= {GOAL['dead']})" if name != "classic" else ""))


if __name__ == "__main__":
    main()
