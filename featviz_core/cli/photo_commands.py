"""`featviz examples` (a layer's dataset examples) and `featviz dissect` (what a layer sees in a photo)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Sequence

from featviz_core.cli.common import CliError, ProgressBar, parse_filter_range, read_file, rendered_with_bar, write_file

if TYPE_CHECKING:
    import numpy as np


def command_examples(args: argparse.Namespace) -> None:
    """`featviz examples MODEL LAYER`: the top patches of an image set per filter, as a PNG sheet (and JSON)."""
    import json

    from featviz_core.examples.image_sets import image_set_from_folder, image_set_from_zip, sample_image_set

    filters = parse_filter_range(args.filters)
    if args.top < 1:
        raise CliError("--top must be at least 1")
    if args.images is None:
        image_set = sample_image_set()
    elif args.images.is_dir():
        image_set = image_set_from_folder(args.images)
    elif args.images.is_file():
        image_set = image_set_from_zip(read_file(args.images), args.images.name)
    else:
        raise CliError(f"--images: no such folder or zip file: {args.images}")
    from featviz_core.examples import examples_json, examples_sheet, layer_examples
    from featviz_core.imaging import png_bytes
    from featviz_core.models import load_model

    loaded = load_model(args.model)
    layer = next((info for info in loaded.layers if info.name == args.layer), None)
    if layer is None:
        raise CliError(f"{loaded.name} has no layer {args.layer!r}: run `featviz layers {args.model}`")
    if max(filters) >= layer.filters:
        raise CliError(f"{args.layer} has {layer.filters} filters (0-{layer.filters - 1}); got filter {max(filters)}")
    bar = ProgressBar(f"{args.layer} examples", len(image_set.images))
    try:
        result = layer_examples(loaded, args.layer, image_set, top=args.top,
                                progress=lambda done, total: bar.draw(done, "images"))
    finally:
        bar.finish()
    pictures = optimized_pictures(loaded, args.layer, filters) if args.pictures else None
    write_file(args.output, png_bytes(examples_sheet(image_set, result, filters, pictures=pictures)))
    if args.json:
        write_file(args.json, (json.dumps(examples_json(image_set, result, filters), indent=1) + "\n").encode())
    skipped = f", {len(image_set.skipped)} files skipped" if image_set.skipped else ""
    print(f"wrote {args.output}: top {args.top} of {len(image_set.images)} images{skipped} for {len(filters)} filters "
          f"of {args.layer} in {result.seconds:.1f} s ({result.images_per_second:.1f} images/s)")


def optimized_pictures(loaded, layer: str, filters: Sequence[int]) -> dict[int, np.ndarray]:
    """Each filter's picture with the default preset (fitted to a fixed input size): the model's atlases' when
    they have exactly these settings, else rendered in batches."""
    from featviz_core.atlas import default_atlas_folders
    from featviz_core.dissect import model_atlases
    from featviz_core.settings import DEFAULT_PRESET, fit_to_model_input, preset

    settings = fit_to_model_input(preset(DEFAULT_PRESET, model=loaded.name, layer=layer), loaded.input_size)
    atlases = model_atlases(loaded.name, default_atlas_folders())
    pictures = {}
    for index in filters:
        entry = atlases.match(settings.with_changes(filter=index))
        if entry is not None:
            pictures[index] = entry.image()
    missing = [index for index in filters if index not in pictures]
    pictures.update((result.settings.filter, result.image)
                    for result in rendered_with_bar(settings, missing, loaded, "pictures"))
    return pictures


def command_dissect(args: argparse.Namespace) -> None:
    import json
    import time

    import numpy as np

    from featviz_core.dissect.groups import MAX_GROUPS, MIN_GROUPS

    if args.top < 1:
        raise CliError("--top must be at least 1")
    if args.groups and not MIN_GROUPS <= args.groups <= MAX_GROUPS:
        raise CliError(f"--groups must be between {MIN_GROUPS} and {MAX_GROUPS}, or 0 for none; got {args.groups}")
    from featviz_core.ascent.start_images import decode_photo, photo_size

    data = read_file(args.photo)
    pixels = np.asarray(decode_photo(data))
    from featviz_core.atlas import default_atlas_folders
    from featviz_core.dissect import dissect, dissection_json, dissection_sheet, filter_picture, model_atlases
    from featviz_core.examples import patch
    from featviz_core.examples.image_sets import sample_image_set
    from featviz_core.examples.photo_response import best_on_photos
    from featviz_core.imaging import png_bytes
    from featviz_core.models import load_model

    loaded = load_model(args.model)
    if args.layer not in {info.name for info in loaded.layers if info.kind != "Dense"}:
        raise CliError(f"{loaded.name} has no conv layer {args.layer!r}: run `featviz layers {args.model}`")
    began = time.perf_counter()
    found = dissect(loaded, args.layer, pixels, photo_size(data), top=args.top, groups=args.groups)
    atlases = model_atlases(loaded.name, default_atlas_folders())
    shown = {int(index) for index in found.grid.strongest()[0].ravel()} | {item.filter for item in found.top_filters}
    pictures = {index: filter_picture(loaded, atlases, args.layer, index) for index in sorted(shown)}
    best = best_on_photos(loaded, args.layer)
    patches = {item.filter: [patch(sample_image_set(), example, 112) for example in best.of(item.filter)]
               for item in found.top_filters}
    group_pictures = _group_pictures(loaded, args.layer, found) if found.groups and args.group_pictures else None
    write_file(args.output, png_bytes(dissection_sheet(found, pictures, patches, group_pictures)))
    if args.json:
        write_file(args.json, (json.dumps(dissection_json(found)) + "\n").encode())
    from_atlas = sum(picture.source == "atlas" for picture in pictures.values())
    rows, cols = found.grid.shape
    print(f"wrote {args.output}: {rows} x {cols} cells of {args.layer}, {len(pictures)} filters shown "
          f"({from_atlas} pictures from an atlas, {len(pictures) - from_atlas} photo patches), "
          f"{len(found.groups.groups) if found.groups else 0} groups, in {time.perf_counter() - began:.1f} s")


def _group_pictures(loaded, layer: str, found) -> list[np.ndarray]:
    """Each neuron group's picture: the default preset climbing the group's weighted channels."""
    from featviz_core.settings import DEFAULT_PRESET, fit_to_model_input, preset

    weights = found.groups.channel_weights
    settings = fit_to_model_input(preset(DEFAULT_PRESET, model=loaded.name, layer=layer, channel_weights=weights),
                                  loaded.input_size)
    results = rendered_with_bar(settings, range(len(weights)), loaded, "group pictures", batch=len(weights))
    return [result.image for result in results]
