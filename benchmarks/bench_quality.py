"""The default recipe against the reference (featviz 0.4's robust recipe run 4x longer), and each lever.

    python benchmarks/bench_quality.py                          # every row on the 12 filters below
    python benchmarks/bench_quality.py --rows reference,default --sheet docs/recipe_sheet.webp
    python benchmarks/bench_quality.py --batching               # also: the default rendered 4 filters at a time

Every row renders the same filters of vgg16-offline one at a time (as Explore does), in one run, and
measures each picture at the same display size (412 px, the final size of every row): act, robust and
hf (featviz_core.ascent.quality). Each filter's act is divided by the reference's act on that filter; a row
prints the median and the lowest of those ratios, the median robust and hf, and its render time as a
share of the reference's. The target for the default: median act >= 0.9x the reference's, median
robust >= 0.95, median hf <= 0.005, time <= 0.4x the reference's.

Lever rows change one thing of the default (or undo one of its choices), so that each says what that
lever is worth. Filters: six from the guide (blocks 2-5) and six more, all beyond index 63 of the atlas.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field

MODEL = "vgg16-offline"
FILTERS = [("block2_conv2", 40), ("block3_conv2", 90), ("block4_conv2", 200), ("block4_conv3", 17),
           ("block5_conv1", 77), ("block5_conv3", 100), ("block2_conv1", 100), ("block3_conv1", 130),
           ("block3_conv3", 200), ("block4_conv1", 300), ("block5_conv2", 400), ("block5_conv3", 450)]
GOAL = dict(act=0.9, robust=0.95, hf=0.005, time=0.4)

# featviz 0.4's robust recipe: Adam at a constant step size 1.0, no steps at the shown size.
RECIPE_0_4 = dict(step_size=1.0, optimizer="adam", final_steps=0, size_scaled_steps=False)
# name -> overrides of the default preset (one lever per row; the first two rows are the baselines).
ROWS: dict[str, dict[str, object]] = {
    "reference (0.4 recipe, 24 steps/octave)": dict(RECIPE_0_4, steps_per_octave=24),
    "featviz 0.4 default (6 steps/octave)": dict(RECIPE_0_4),
    "default": {},
    "lever off: no steps at the shown size": dict(final_steps=0),
    "lever off: constant step size": dict(size_scaled_steps=False),
    "lever off: plain Adam": dict(optimizer="adam"),
    "lever: plateau stop (2% over 3 steps)": dict(plateau_gain=0.02),
    "lever: nadam": dict(optimizer="nadam"),
    "lever: maco (phase only) + nadam": dict(parameterization="maco", optimizer="nadam", step_size=0.5),
    "lever: 4 steps/octave": dict(steps_per_octave=4),
}
REFERENCE = next(iter(ROWS))


@dataclass
class Row:
    """One recipe: its overrides and, per filter, the measured quality and render time."""

    name: str
    overrides: dict[str, object]
    qualities: list = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    images: list = field(default_factory=list)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="all", help="all, or row names (or unique prefixes), comma-separated")
    parser.add_argument("--filters", type=int, default=len(FILTERS), help="use the first N filters of the list")
    parser.add_argument("--per-filter", action="store_true", help="also print every filter's figures")
    parser.add_argument("--sheet", help="write a contact sheet of the reference, 0.4 default and default rows")
    parser.add_argument("--batching", action="store_true", help="also time the default 4 filters per batch")
    return parser.parse_args()


def chosen_rows(text: str) -> list[Row]:
    if text == "all":
        return [Row(name, overrides) for name, overrides in ROWS.items()]
    wanted = [part.strip() for part in text.split(",")]
    names = [next(name for name in ROWS if name.startswith(part)) for part in wanted]
    if REFERENCE not in names:
        names.insert(0, REFERENCE)
    return [Row(name, ROWS[name]) for name in names]


def measure_row(row: Row, filters, loaded, meters) -> None:
    """Render each filter alone (after one compile run per layer) and measure its picture."""
    from featviz_core.rendering import render
    from featviz_core.settings import DEFAULT_PRESET, preset

    compiled = set()
    for layer, index in filters:
        settings = preset(DEFAULT_PRESET, model=MODEL, layer=layer, filter=index, **row.overrides)
        if layer not in compiled:  # tracing the step is a one-off cost, not render time
            render(settings, loaded, on_progress=lambda event: event.step < 2)
            compiled.add(layer)
        began = time.perf_counter()
        result = render(settings, loaded)
        row.seconds.append(time.perf_counter() - began)
        row.qualities.append(meters[layer].measure(result.measured_image, index, result.dead))
        row.images.append(result.image)


def batching(filters, loaded) -> str:
    """Seconds per filter of the default, one filter at a time against four per batch (one layer)."""
    from featviz_core.rendering import render_batch
    from featviz_core.settings import DEFAULT_PRESET, preset

    layer = filters[0][0]
    indices = [64, 65, 66, 67]
    settings = preset(DEFAULT_PRESET, model=MODEL, layer=layer)
    render_batch(settings, indices[:1], loaded, on_progress=lambda event: event.step < 2)
    render_batch(settings, indices, loaded, on_progress=lambda event: event.step < 2)
    began = time.perf_counter()
    for index in indices:
        render_batch(settings, [index], loaded)
    alone = (time.perf_counter() - began) / len(indices)
    began = time.perf_counter()
    render_batch(settings, indices, loaded)
    together = (time.perf_counter() - began) / len(indices)
    return f"batching on {layer} 64-67: {alone:.1f} s per filter alone, {together:.1f} s in a batch of 4 " \
           f"({together / alone:.2f}x)"


def write_sheet(path: str, rows: list[Row], filters) -> None:
    """Reference, 0.4 default and default pictures, one row each, 128 px per picture, labelled."""
    import numpy as np
    from PIL import Image, ImageDraw

    from featviz_core.imaging import resize

    shown = [row for row in rows if row.name in list(ROWS)[:3]]
    cell, label = 128, 18
    sheet = Image.new("RGB", (cell * len(filters), (cell + label) * len(shown) + label), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for column, (layer, index) in enumerate(filters):
        draw.text((column * cell + 4, 3), f"{layer} {index}", fill=(0, 0, 0))
    for line, row in enumerate(shown):
        top = label + line * (cell + label)
        draw.text((4, top + 2), row.name, fill=(0, 0, 0))
        for column, image in enumerate(row.images):
            sheet.paste(Image.fromarray(np.asarray(resize(image, cell))), (column * cell, top + label))
    sheet.save(path, quality=85)
    print(f"wrote {path}")


def main() -> None:
    args = parse_args()
    from featviz_core.cli import mute_native_logs

    mute_native_logs()  # TensorFlow's C++ start-up lines (FEATVIZ_NATIVE_LOGS=1 keeps them)
    from featviz_core.ascent import cached_model
    from featviz_core.models.precision import compute_dtype
    from featviz_core.ascent.quality import QualityMeter

    loaded = cached_model(MODEL)
    filters = FILTERS[:args.filters]
    rows = chosen_rows(args.rows)
    meters = {layer: QualityMeter(loaded, layer) for layer, _ in filters}
    print(f"model {MODEL}, compute {compute_dtype()}; filters: {filters}", flush=True)
    for row in rows:
        measure_row(row, filters, loaded, meters)
        print(f"  measured {row.name}: {sum(row.seconds):.0f} s", flush=True)

    reference = next(row for row in rows if row.name == REFERENCE)
    print("\n| row | act vs reference (median, lowest) | median robust | median hf | dead | time | time vs reference |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        ratios = [mine.act / max(theirs.act, 1e-7) for mine, theirs in zip(row.qualities, reference.qualities)]
        time_ratio = sum(row.seconds) / sum(reference.seconds)
        print(f"| {row.name} | {statistics.median(ratios):.2f}x, {min(ratios):.2f}x | "
              f"{statistics.median(q.robust for q in row.qualities):.3f} | "
              f"{statistics.median(q.hf for q in row.qualities):.5f} | {sum(q.dead for q in row.qualities)} | "
              f"{sum(row.seconds):.0f} s | {time_ratio:.2f}x |")
        if args.per_filter:
            for (layer, index), quality, ratio, seconds in zip(filters, row.qualities, ratios, row.seconds):
                print(f"    {layer} {index}: act {quality.act:.3f} ({ratio:.2f}x) robust {quality.robust:.3f} "
                      f"hf {quality.hf:.5f}{' dead' if quality.dead else ''} {seconds:.1f} s")
    print(f"\ngoal for the default: median act >= {GOAL['act']}x the reference's, median robust >= {GOAL['robust']}, "
          f"median hf <= {GOAL['hf']}, time <= {GOAL['time']}x the reference's")
    if args.batching:
        print(batching(filters, loaded))
    if args.sheet:
        write_sheet(args.sheet, rows, filters)


if __name__ == "__main__":
    main()
