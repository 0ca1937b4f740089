"""Can a person read the pictures? The legibility of recipes, measured with the network itself (issue 26).

    python benchmarks/bench_legibility.py                                  # the old and new default
    python benchmarks/bench_legibility.py --recipes all --per-layer 4      # every lever, 4 filters a layer
    python benchmarks/bench_legibility.py --sheet docs/legibility_sheet.webp

Each recipe renders the same filters of vgg16-offline (by default 8 of the first 64 of each of 8 layers,
blocks 2 to 5), one layer at a time, and every picture is measured at the size the atlas shows (256 px):

- specificity: the picture's own filter ranks first among all its layer's filters (by mean activation
  z-scored over natural photo crops; `legibility.measures`), and in the top 5: shares of pictures;
- distinctness: the mean similarity of two pictures' z-score vectors in one layer, averaged over layers;
- vs photo: the picture's activation of its filter over that of the filter's best photo patch tiled
  over a picture of the same size at the scale the network saw it (median, and the share of
  photo-firing filters whose picture reaches 1x);
- act, robust, hf (featviz_core.ascent.quality) and render seconds per picture.

With --sheet, a contact sheet: per filter, each recipe's picture, then its six best photo patches.
Photos: scikit-image's samples, their corners and LFW faces (`legibility.photos`), or --photos FOLDER.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


MODEL = "vgg16-offline"
LAYERS = ("block2_conv2", "block3_conv1", "block3_conv3", "block4_conv1", "block4_conv2", "block4_conv3",
          "block5_conv1", "block5_conv3")
SHOWN = 256  # the atlas' picture size: every picture is measured at it
CROPS_PER_PHOTO = 2
PATCHES = 6
GOAL = "specificity first >= 0.50, top 5 >= 0.80; similarity <= 0.12; vs photo >= 1x; robust >= 0.95; hf <= 0.005"

# featviz 0.5's default (the robust preset before issue 26), kept here as the baseline.
OLD_DEFAULT = dict(steps_per_octave=6, octaves=5, upscale_factor=1.4, step_size=2.0, final_size=412,
                   preprocessing="model", objective="channel", parameterization="fourier", optimizer="adam-damped",
                   transforms="standard", warmup_steps=6, variants=1, final_steps=2, size_scaled_steps=True,
                   plateau_gain=0.0, rivals=0.0, rescue=True)
# Today's default (issue 26), spelled out so that the levers below stay what they are if it changes.
PRESET_NOW = dict(octaves=4, final_size=256, parameterization="fourier-bounded", rivals=4.0)
# name -> changes to the old default (levers), or None for today's default preset.
RECIPES: dict[str, dict[str, object] | None] = {
    "old default": {},
    "new default": None,
    "bounded": dict(parameterization="fourier-bounded"),
    "bounded 256": dict(parameterization="fourier-bounded", final_size=256, octaves=4),
    "bounded 256 x2 steps": dict(parameterization="fourier-bounded", final_size=256, octaves=4, steps_per_octave=12),
    "bounded 256 rivals 1": dict(parameterization="fourier-bounded", final_size=256, octaves=4, rivals=1.0),
    "bounded 256 rivals 4": dict(parameterization="fourier-bounded", final_size=256, octaves=4, rivals=4.0),
    "rivals 2": dict(rivals=2.0),
    "new + 2 receptive fields": dict(PRESET_NOW, canvas_rf=2.0),
    "new + decay 1.5": dict(PRESET_NOW, decay=1.5),
    "new + rivals 10": dict(PRESET_NOW, rivals=10.0),
}


@dataclass
class Recipe:
    name: str
    values: dict[str, object]
    images: dict[str, list[np.ndarray]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="old default,new default",
                        help="all, or names, comma-separated; atlas:FOLDER measures an atlas' pictures")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--per-layer", type=int, default=8, help="filters per layer, spread over 0-63")
    parser.add_argument("--views", type=int, default=8, help="random views per picture for robust (0: skip)")
    parser.add_argument("--photos", help="a folder of your own photos instead of the bundled ones")
    parser.add_argument("--sheet", help="write a contact sheet (per filter: each recipe, then its best patches)")
    parser.add_argument("--save", type=Path, help="save every picture (DIR/RECIPE/LAYER_FILTER.png) and the best "
                                                  "patches (DIR/patches/LAYER_FILTER_K.png) for blind_test.py")
    return parser.parse_args()


def recipe_values(name: str) -> dict[str, object]:
    from featviz_core.settings import PRESETS

    if name.startswith("atlas:"):
        return {}
    changes = RECIPES[name]
    return dict(PRESETS["robust"]) if changes is None else {**OLD_DEFAULT, **changes}


def atlas_layer(recipe: Recipe, layer: str, filters: list[int]) -> None:
    """The pictures of a recipe named "atlas:FOLDER": that atlas' pictures (no rendering, no time)."""
    from featviz_core.atlas import open_atlas
    from featviz_core.imaging import resize

    atlas = open_atlas(recipe.name.split(":", 1)[1])
    entries = [atlas.entry(layer, index) for index in filters]
    missing = [index for index, entry in zip(filters, entries) if entry is None]
    if missing:
        raise SystemExit(f"{recipe.name} has no picture of {layer} filters {missing}")
    recipe.images[layer] = [resize(entry.image(), SHOWN) for entry in entries]


def render_layer(recipe: Recipe, loaded, layer: str, filters: list[int]) -> None:
    """Each filter alone (as Explore renders it), after one untimed compile run."""
    if recipe.name.startswith("atlas:"):
        return atlas_layer(recipe, layer, filters)
    from featviz_core.rendering import render
    from featviz_core.imaging import resize
    from featviz_core.settings import RenderSettings

    values = dict(recipe.values)
    values.pop("decay", None)  # (set for the whole process in main)
    if "canvas_rf" in values:  # lab: a canvas of k receptive fields, shown enlarged to SHOWN
        from featviz_core.examples.top_patches import receptive_field

        field = receptive_field(loaded.model, layer, (SHOWN, SHOWN)).size[0]
        size = int(min(SHOWN, max(64, values.pop("canvas_rf") * field))) // 4 * 4
        octaves = min(4, int(np.log(size / 16) / np.log(values["upscale_factor"])))
        values.update(final_size=size, octaves=octaves)
    base = RenderSettings(model=MODEL, layer=layer, **values)
    render(base.with_changes(filter=filters[0]), loaded, on_progress=lambda event: event.step < 2)
    pictures = []
    for index in filters:
        began = time.perf_counter()
        result = render(base.with_changes(filter=index), loaded)
        recipe.seconds.append(time.perf_counter() - began)
        pictures.append(result.image if result.image.shape[0] == SHOWN else resize(result.image, SHOWN))
    recipe.images[layer] = pictures


def main() -> None:
    args = parse_args()
    from featviz_core.cli import mute_native_logs

    mute_native_logs()
    from featviz_core.ascent import cached_model
    from featviz_core.ascent.quality import QualityMeter, high_frequency_share
    from featviz_core.examples.image_sets import image_set_from_folder
    from featviz_core.examples.top_patches import layer_examples, patch, tiled_patch
    from featviz_core.models.precision import compute_dtype
    from legibility.measures import LayerReader, Norms, distinctness, own_ranks, specificity
    from legibility.photos import legibility_photos, photo_crops

    names = list(RECIPES) if args.recipes == "all" else [name.strip() for name in args.recipes.split(",")]
    unknown = [name for name in names if name not in RECIPES and not name.startswith("atlas:")]
    if unknown:
        raise SystemExit(f"unknown recipes {unknown}; known: {', '.join(RECIPES)} (or atlas:FOLDER)")
    layers = [name.strip() for name in args.layers.split(",")]
    loaded = cached_model(MODEL)
    photos = image_set_from_folder(args.photos) if args.photos else legibility_photos()
    step = max(1, 64 // args.per_layer)
    filters = list(range(0, 64, step))[:args.per_layer]
    print(f"{MODEL}, {compute_dtype()}; {len(photos)} photos; layers {', '.join(layers)}; filters {filters}")

    began = time.perf_counter()
    reader = LayerReader(loaded, layers)
    norms = {layer: Norms.of(means) for layer, means in
             reader.channel_means(photo_crops(photos, SHOWN, CROPS_PER_PHOTO)).items()}
    examples = {layer: layer_examples(loaded, layer, photos, top=PATCHES) for layer in layers}
    patches = {layer: [[patch(photos, example, SHOWN) for example in examples[layer].of(index)] for index in filters]
               for layer in layers}
    tiles = {layer: np.stack([tiled_patch(photos, examples[layer].of(index)[0], loaded.input_size, SHOWN)
                              for index in filters]) for layer in layers}
    best_patch_act = {layer: reader.channel_means(tiles[layer])[layer] for layer in layers}
    print(f"photo statistics and best patches: {time.perf_counter() - began:.0f} s")

    recipes = [Recipe(name, recipe_values(name)) for name in names]
    decays = {recipe.values.get("decay") for recipe in recipes}
    if len(decays) > 1:
        raise SystemExit("a recipe with a spectrum decay runs alone: the decay is one constant per process "
                         "(the compiled steps are cached), so the recipes beside it would get it too")
    if decays != {None}:  # lab: not a setting, since the lever was not taken up
        from featviz_core.ascent import parameterizations

        parameterizations.SPECTRUM_DECAY = float(decays.pop())
    print(f"goal: {GOAL}")
    print("| recipe | first | top 5 | similarity | vs photo (median, share >= 1x) | act | robust | hf | s/picture |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for recipe in recipes:
        ranks, similarities, versus, acts, robust, hf = [], [], [], [], [], []
        for layer in layers:
            render_layer(recipe, loaded, layer, filters)
            images = np.stack(recipe.images[layer])
            means = reader.channel_means(images)[layer]
            zscores = norms[layer].zscores(means)
            ranks += list(own_ranks(zscores, filters))
            similarities.append(distinctness(zscores))
            meter = QualityMeter(loaded, layer, views=max(args.views, 1))
            for position, index in enumerate(filters):
                act, photo = float(means[position, index]), float(best_patch_act[layer][position, index])
                acts.append(act)
                if photo > 0.01:
                    versus.append(act / photo)
                if args.views:
                    robust.append(meter.robustness(images[position], index, act) if act > 1e-7 else 0.0)
                hf.append(high_frequency_share(images[position]))
        first, top = specificity(ranks)
        print(f"| {recipe.name} | {first:.2f} | {top:.2f} | {statistics.mean(similarities):.3f} | "
              f"{statistics.median(versus):.2f}x, {np.mean(np.array(versus) >= 1):.2f} | {statistics.median(acts):.1f} | "
              f"{statistics.median(robust) if robust else float('nan'):.3f} | {statistics.median(hf):.4f} | "
              f"{statistics.mean(recipe.seconds) if recipe.seconds else float('nan'):.1f} |", flush=True)
        print("  per layer similarity: " + ", ".join(f"{layer} {value:.2f}" for layer, value in zip(layers, similarities)))
    if args.sheet:
        write_sheet(args.sheet, recipes, layers, filters, patches)
    if args.save:
        save_pictures(args.save, recipes, layers, filters, patches)


def save_pictures(folder: Path, recipes: list[Recipe], layers: list[str], filters: list[int], patches) -> None:
    """Every recipe's pictures and every filter's best patches as PNG files, named as blind_test.py reads them."""
    from PIL import Image

    for layer in layers:
        for position, index in enumerate(filters):
            for recipe in recipes:
                out = folder / recipe.name.replace(" ", "_").replace("/", "_").replace(":", "_")
                out.mkdir(parents=True, exist_ok=True)
                Image.fromarray(recipe.images[layer][position]).save(out / f"{layer}_{index}.png")
            (folder / "patches").mkdir(parents=True, exist_ok=True)
            for rank, image in enumerate(patches[layer][position]):
                Image.fromarray(image).save(folder / "patches" / f"{layer}_{index}_{rank}.png")
    print(f"saved the pictures and patches under {folder}")


def write_sheet(path: str, recipes: list[Recipe], layers: list[str], filters: list[int], patches) -> None:
    """Per filter one row: each recipe's picture, a gap, its best photo patches; 96 px tiles."""
    from PIL import Image

    from featviz_core.imaging import resize

    tile, gap = 96, 12
    rows = []
    for layer in layers:
        for position, index in enumerate(filters):
            pictures = [resize(recipe.images[layer][position], tile) for recipe in recipes]
            best = [resize(image, tile) for image in patches[layer][position]]
            blank = np.full((tile, gap, 3), 255, np.uint8)
            rows.append(np.concatenate(pictures + [blank] + best, axis=1))
    sheet = np.concatenate([np.pad(row, ((2, 2), (0, 0), (0, 0)), constant_values=255) for row in rows])
    Image.fromarray(sheet).save(path, quality=80)
    print(f"wrote {path}: rows {', '.join(layers)} x filters {filters}; columns {', '.join(r.name for r in recipes)}, "
          f"then the best {PATCHES} photo patches")


if __name__ == "__main__":
    main()
