"""Render again, with the default recipe, every filter an atlas shows dead; per layer: how many stay dead,
and how many of those fire on the sample photos (the ascent failed, the filter is alive).

    git archive 9bb0750 atlas/vgg16-offline | tar -x -C /tmp/old    # featviz 0.4's atlas
    python benchmarks/bench_dead.py /tmp/old/atlas/vgg16-offline
    python benchmarks/bench_dead.py /tmp/old/atlas/vgg16-offline --layers block2_conv1,block3_conv1
"""

from __future__ import annotations

import argparse
import time

BATCH = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("atlas", help="an atlas folder whose dead entries are rendered again")
    parser.add_argument("--layers", help="comma-separated layer names (default: every layer with dead entries)")
    args = parser.parse_args()
    from featviz_core.cli import mute_native_logs

    mute_native_logs()
    from featviz_core.ascent import cached_model
    from featviz_core.rendering import render_batch
    from featviz_core.atlas import open_atlas
    from featviz_core.results import fires_on_photos
    from featviz_core.settings import DEFAULT_PRESET, preset

    atlas = open_atlas(args.atlas)
    loaded = cached_model(atlas.model)
    print("| layer | dead in the atlas | still dead | of those, fire on the sample photos | seconds |")
    print("| --- | --- | --- | --- | --- |")
    totals = [0, 0, 0]
    wanted = set(args.layers.split(",")) if args.layers else None
    for layer in atlas.layers:
        if wanted is not None and layer.name not in wanted:
            continue
        dead = [index for index in atlas.filters_of(layer.name) if atlas.entry(layer.name, index).dead]
        if not dead:
            continue
        began = time.perf_counter()
        settings = preset(DEFAULT_PRESET, model=atlas.model, layer=layer.name)
        results = [result for start in range(0, len(dead), BATCH)
                   for result in render_batch(settings, dead[start:start + BATCH], loaded)]
        still = [result for result in results if result.dead]
        firing = [f"{r.settings.filter} (up to {r.photo_peak:.3g})" for r in still if fires_on_photos(r.photo_peak)]
        totals = [totals[0] + len(dead), totals[1] + len(still), totals[2] + len(firing)]
        print(f"| {layer.name} | {len(dead)} | {len(still)} {[r.settings.filter for r in still]} | "
              f"{len(firing)} {firing} | {time.perf_counter() - began:.0f} |", flush=True)
    print(f"| all | {totals[0]} | {totals[1]} | {totals[2]} | |")


if __name__ == "__main__":
    main()
