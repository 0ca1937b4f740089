"""The `featviz` command line: list layers, render one filter, render a layer gallery, build and inspect an atlas,
find a layer's dataset examples, and dissect a photo."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from featviz_core.memory import tune_heap

if TYPE_CHECKING:
    import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

USAGE_ERROR = 2
NATIVE_LOGS = "FEATVIZ_NATIVE_LOGS"


class CliError(Exception):
    """A problem with the user's arguments or files: printed as one line, exit code 2."""


def parse_filter_range(text: str) -> list[int]:
    """'0-63', '3', '1,5,9' or '0-3,10' -> a list of filter indices."""
    indices: list[int] = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            first = int(low)
            last = int(high) if dash else first
            if first < 0 or last < first:
                raise ValueError
            indices.extend(range(first, last + 1))
    except ValueError:
        raise CliError(f"--filters must look like 0-63 or 1,5,9; got {text!r}") from None
    return indices


def parse_shard(text: str) -> tuple[int, int]:
    """'2/8' -> (2, 8)."""
    part, slash, parts = text.partition("/")
    try:
        shard = (int(part), int(parts))
    except ValueError:
        shard = (0, 0)
    if not slash or not 1 <= shard[0] <= shard[1]:
        raise CliError("--shard must look like K/N with 1 <= K <= N")
    return shard


ATLAS_COMMANDS = ("build", "merge", "info")


def build_parser() -> argparse.ArgumentParser:
    from featviz_core.parts import OPTIMIZERS, PARAMETERIZATIONS, PREPROCESSINGS, START_IMAGES, TRANSFORMS
    from featviz_core.settings import DEFAULT_PRESET, PRESETS

    parser = argparse.ArgumentParser(prog="featviz", description="See what a CNN filter responds to.")
    commands = parser.add_subparsers(dest="command", required=True)

    layers = commands.add_parser("layers", help="list the visualizable layers of a model")
    layers.add_argument("model", help="registered model name (e.g. vgg16-offline) or a .keras file")

    def add_render_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET,
                         help=f"named settings (default {DEFAULT_PRESET}, as in the dashboard)")
        sub.add_argument("--start", choices=list(START_IMAGES), default="noise")
        sub.add_argument("--photo", type=Path, help="image file for --start photo")
        sub.add_argument("--steps", type=int, help="steps per octave")
        sub.add_argument("--octaves", type=int, help="number of octaves")
        sub.add_argument("--final-steps", type=int, help="steps at the final size after the octaves (0: enlarge "
                                                          "the last octave without steps, as the classic script)")
        sub.add_argument("--size-scaled-steps", action=argparse.BooleanOptionalAction, default=None,
                         help="grow each octave's step size with its image size")
        sub.add_argument("--plateau", type=float, help="end an octave once the loss gained less than this share "
                                                       "over the last 3 steps (e.g. 0.02; default 0: never)")
        sub.add_argument("--upscale", type=float, help="upscale factor between octaves")
        sub.add_argument("--step-size", type=float, help="ascent step size")
        sub.add_argument("--size", type=int, help="final image size in pixels")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--objective", help='what to climb, e.g. "channel - 0.05*tv" (default: the preset\'s)')
        sub.add_argument("--variants", type=int, help="pictures per filter, each from its own seed")
        sub.add_argument("--parameterization", choices=list(PARAMETERIZATIONS))
        sub.add_argument("--optimizer", choices=list(OPTIMIZERS))
        sub.add_argument("--transforms", choices=list(TRANSFORMS))
        sub.add_argument("--preprocessing", choices=list(PREPROCESSINGS),
                         help="how pixels are fed to the network (default: the preset's, the model's own)")

    render = commands.add_parser("render", help="visualize one filter")
    render.add_argument("model")
    render.add_argument("layer")
    render.add_argument("filter", type=int)
    render.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    render.add_argument("--gif", type=Path, help="also write an animated GIF of the ascent")
    add_render_options(render)

    gallery = commands.add_parser("gallery", help="visualize many filters of a layer as one collage")
    gallery.add_argument("model")
    gallery.add_argument("layer")
    gallery.add_argument("--filters", default="0-15", help="filter indices, e.g. 0-63 or 1,5,9")
    gallery.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    gallery.add_argument("--order", choices=["loss", "index"], default="loss",
                         help="best final loss first (classic) or filter order")
    gallery.add_argument("--batch", type=int, help="filters rendered together (default: as many as fit a ~400 MB budget)")
    add_render_options(gallery)

    atlas = commands.add_parser(
        "atlas", help="precompute pictures of many filters into a folder (featviz atlas MODEL -o DIR)",
        description="`featviz atlas MODEL -o DIR ...` is short for `featviz atlas build MODEL -o DIR ...`.")
    atlas_commands = atlas.add_subparsers(dest="atlas_command", required=True)
    build = atlas_commands.add_parser("build", help="render an atlas, or resume one (the default)")
    build.add_argument("model")
    build.add_argument("-o", "--output", type=Path, required=True, help="atlas folder (created, or resumed)")
    build.add_argument("--layers", default="all", help="all (every conv layer) or names, e.g. block1_conv1,block5_conv3")
    build.add_argument("--filters", help="filter indices, e.g. 0-63 (default: all; clipped to each layer)")
    build.add_argument("--image-size", type=int, help="stored picture size in px (default 256, at most --size)")
    build.add_argument("--shard", help="render only part K of N of the work, e.g. 2/8 (merge the parts after)")
    build.add_argument("--batch", type=int, help="filters rendered together (default: as many as fit the memory budget)")
    build.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="spread the shards over Ray: a local Ray, or the cluster at ADDRESS (ray://host:10001)")
    build.add_argument("--shards", type=int, help="with --ray: number of shards (default: the cluster's GPUs, else CPUs)")
    add_render_options(build)
    merge = atlas_commands.add_parser("merge", help="join atlases of the same model and settings (e.g. shards)")
    merge.add_argument("out", type=Path, help="the merged atlas folder (may be one of the sources)")
    merge.add_argument("sources", type=Path, nargs="+")
    info = atlas_commands.add_parser("info", help="what an atlas holds, per layer")
    info.add_argument("folder", type=Path)

    examples = commands.add_parser("examples", help="the image patches of an image set that excite filters most")
    examples.add_argument("model")
    examples.add_argument("layer")
    examples.add_argument("--filters", default="0-7", help="filter indices, e.g. 0-63 or 1,5,9 (default 0-7)")
    examples.add_argument("--images", type=Path,
                          help="a folder or a .zip of images (default: the photos bundled with scikit-image)")
    examples.add_argument("--top", type=int, default=9, help="patches per filter, best first (default 9)")
    examples.add_argument("-o", "--output", type=Path, required=True, help="PNG sheet to write")
    examples.add_argument("--json", type=Path, help="also write the examples (image, box, activation) as JSON")
    examples.add_argument("--pictures", action="store_true",
                          help="put each filter's optimized picture (default preset) first in its row: from an "
                               "atlas that has it, else rendered")
    dissect = commands.add_parser("dissect", help="what a layer sees in a photo: the grid of its filters' pictures, "
                                                   "the photo's top filters and its neuron groups")
    dissect.add_argument("model")
    dissect.add_argument("layer")
    dissect.add_argument("photo", type=Path, help="an image file (PNG, JPEG, WebP, ...)")
    dissect.add_argument("-o", "--output", type=Path, required=True, help="PNG sheet to write")
    dissect.add_argument("--json", type=Path, help="also write the cells, top filters and groups as JSON")
    dissect.add_argument("--top", type=int, default=5, help="filters per cell and for the photo (default 5)")
    dissect.add_argument("--groups", type=int, default=6, help="neuron groups, 3 to 8, or 0 for none (default 6)")
    dissect.add_argument("--no-group-pictures", dest="group_pictures", action="store_false",
                         help="skip rendering each group's picture (the default preset; the slow part)")
    return parser


def with_default_atlas_command(argv: Sequence[str]) -> list[str]:
    """`featviz atlas MODEL ...` means `featviz atlas build MODEL ...` (a model named like a
    subcommand needs the explicit `build`)."""
    argv = list(argv)
    if len(argv) > 1 and argv[0] == "atlas" and argv[1] not in (*ATLAS_COMMANDS, "-h", "--help"):
        argv.insert(1, "build")
    return argv


def setting_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The preset fields the render options change."""
    overrides = {
        "steps_per_octave": args.steps, "octaves": args.octaves, "upscale_factor": args.upscale,
        "final_steps": args.final_steps, "size_scaled_steps": args.size_scaled_steps, "plateau_gain": args.plateau,
        "step_size": args.step_size, "final_size": args.size, "objective": args.objective,
        "variants": args.variants, "parameterization": args.parameterization, "optimizer": args.optimizer,
        "transforms": args.transforms, "preprocessing": args.preprocessing,
    }
    return {key: value for key, value in overrides.items() if value is not None}


def settings_from_args(args: argparse.Namespace):
    from featviz_core.settings import preset

    chosen = setting_overrides(args)
    photo = None
    if args.start == "photo":
        if args.photo is None:
            raise CliError("--start photo needs --photo FILE")
        photo = _read_file(args.photo)
    return preset(args.preset, model=args.model, layer=args.layer, filter=getattr(args, "filter", 0),
                  start=args.start, start_photo=photo, seed=args.seed, **chosen)


def fitted_to_model(settings, loaded, args: argparse.Namespace):
    """For a model that takes one input size only, the preset scaled down to it (settings.fit_to_input_size),
    unless the size or schedule was given (--size, --octaves, --steps)."""
    from featviz_core.settings import fit_to_model_input

    if any(value is not None for value in (args.size, args.octaves, args.steps, args.final_steps)):
        return settings
    return fit_to_model_input(settings, loaded.input_size)


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


def _write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None


class ProgressBar:
    """A one-line text progress bar on stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.drawn = False
        self.length = 0

    def __call__(self, done: int, loss: float) -> None:
        self.draw(done, f"loss {loss:.3f}")

    def draw(self, done: int, detail: str) -> None:
        width = 30
        filled = int(width * done / max(self.total, 1))
        text = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {detail}"
        sys.stderr.write(f"\r{text}{' ' * max(0, self.length - len(text))}")  # blank out a longer last line
        sys.stderr.flush()
        self.length = len(text)
        self.drawn = True

    def finish(self) -> None:
        """End the bar's line (a run can stop early: cancelled, or every filter dead)."""
        if self.drawn:
            sys.stderr.write("\n")


def command_layers(args: argparse.Namespace) -> None:
    from featviz_core.models import load_model

    loaded = load_model(args.model)
    print(f"{loaded.name}: {loaded.description}")
    for info in loaded.layers:
        print(f"{info.name:<28} {info.filters:>5} filters  ({info.kind})")


def command_render(args: argparse.Namespace) -> None:
    from featviz_core.rendering import render
    from featviz_core.imaging import collage, gif_bytes, png_bytes
    from featviz_core.models import load_model
    from featviz_core.ascent.start_images import decode_photo

    settings = settings_from_args(args)
    if settings.start_photo:
        decode_photo(settings.start_photo)
    loaded = load_model(settings.model)
    settings = fitted_to_model(settings, loaded, args)
    settings.check_layer(loaded.layers)
    bar = ProgressBar(f"{settings.layer}:{settings.filter}", settings.total_steps)
    result = render(settings, loaded, on_progress=lambda event: bar(event.step, float(event.losses[0])))
    bar.finish()
    pictures = [result.image, *result.variants]
    _write_file(args.output, png_bytes(collage(pictures) if len(pictures) > 1 else result.image))
    if args.gif:
        _write_file(args.gif, gif_bytes([snap.image for snap in result.snapshots]))
    state = (f"dead (activation stayed at zero; the filter {result.dead_note})" if result.dead
             else f"final activation {result.final_activation:.3f}")
    print(f"wrote {args.output}: {state}, {result.steps_run} steps in {result.seconds:.1f} s on {result.device}")


def command_gallery(args: argparse.Namespace) -> None:
    from featviz_core.ascent import batch_limit
    from featviz_core.rendering import render_batch
    from featviz_core.imaging import collage, png_bytes
    from featviz_core.models import load_model

    settings = settings_from_args(args)
    loaded = load_model(settings.model)
    settings = fitted_to_model(settings, loaded, args)
    filters = parse_filter_range(args.filters)
    for index in filters:
        settings.with_changes(filter=index).check_layer(loaded.layers)
    batch = batch_limit(settings) if args.batch is None else args.batch
    if batch < 1:
        raise CliError("--batch must be at least 1")
    results = []
    for first in range(0, len(filters), batch):
        chunk = filters[first:first + batch]
        bar = ProgressBar(f"filters {chunk[0]}-{chunk[-1]}", settings.total_steps)
        results += render_batch(settings, chunk, loaded,
                                on_progress=lambda event: bar(event.step, float(event.losses.mean())))
        bar.finish()
    alive = [r for r in results if not r.dead]
    dead = [r.settings.filter for r in results if r.dead]
    if args.order == "loss":
        alive.sort(key=lambda r: r.final_loss, reverse=True)
    if not alive:
        raise CliError(f"all {len(results)} filters are dead (activation stayed at zero); nothing to draw")
    _write_file(args.output, png_bytes(collage([r.image for r in alive])))
    print(f"wrote {args.output}: {len(alive)} filters" + (f"; dead filters (left out): {dead}" if dead else ""))


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class AtlasProgress:
    """The atlas' progress on stderr: filters done, throughput, time left, and the batch in flight."""

    def __init__(self) -> None:
        self.bar: ProgressBar | None = None

    def __call__(self, event) -> None:
        if self.bar is None:
            self.bar = ProgressBar("atlas", event.total)
        eta = "ETA --" if event.eta_seconds is None else f"ETA {_duration(event.eta_seconds)}"
        batch = f"{event.layer}:{event.filters[0]}" + (f"-{event.filters[-1]}" if len(event.filters) > 1 else "")
        self.bar.draw(event.done, f"filters  {event.per_minute:.1f}/min  {eta}  {batch} step {event.step}/{event.total_steps}")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()


def command_atlas(args: argparse.Namespace) -> None:
    {"build": _atlas_build, "merge": _atlas_merge, "info": _atlas_info}[args.atlas_command](args)


def _atlas_build(args: argparse.Namespace) -> None:
    from featviz_core.atlas.build import build_atlas, build_atlas_ray

    if args.start == "photo" or args.photo is not None:
        raise CliError("start photos are not allowed in an atlas: use --start noise, gray or gradient")
    if args.shards is not None and args.ray is None:
        raise CliError("--shards needs --ray (to render one part by hand, use --shard K/N)")
    if args.shard is not None and args.ray is not None:
        raise CliError("--shard and --ray do not go together: --ray makes and merges the shards itself")
    request = dict(
        model_name=args.model, preset_name=args.preset, image_size=args.image_size, batch=args.batch,
        overrides={**setting_overrides(args), "start": args.start, "seed": args.seed},
        layers="all" if args.layers.strip() == "all" else [name.strip() for name in args.layers.split(",") if name.strip()],
        filters=None if args.filters is None else parse_filter_range(args.filters),
    )
    if args.batch is not None and args.batch < 1:
        raise CliError("--batch must be at least 1")
    if args.ray is not None:
        def shard_done(part: int, parts: int, summary) -> None:
            print(f"shard {part}/{parts} done: {summary.rendered} filters rendered", file=sys.stderr)

        summary = build_atlas_ray(args.output, **request, shards=args.shards, address=args.ray or None,
                                  on_shard_done=shard_done)
    else:
        progress = AtlasProgress()
        try:
            summary = build_atlas(args.output, **request, on_progress=progress,
                                  shard=parse_shard(args.shard) if args.shard else (1, 1))
        finally:
            progress.finish()
    if not summary.rendered:
        print(f"{args.output}: nothing left to do: all {summary.skipped} requested filters are already there "
              f"({summary.count} in the atlas)")
        return
    print(f"{args.output}: rendered {summary.rendered} filters in {summary.seconds:.1f} s "
          f"({summary.per_minute:.1f} per minute), skipped {summary.skipped} already there; "
          f"{summary.count} in the atlas")


def _atlas_merge(args: argparse.Namespace) -> None:
    from featviz_core.atlas import merge

    atlas = merge(args.out, args.sources)
    print(f"{args.out}: {atlas.count} filters of {atlas.model} from {len(args.sources)} atlases")


def _atlas_info(args: argparse.Namespace) -> None:
    from featviz_core.atlas import open_atlas
    from featviz_core.results import fires_on_photos

    atlas = open_atlas(args.folder)
    total = sum(layer.filters for layer in atlas.layers)
    print(f"{atlas.root}: atlas of {atlas.model}, preset {atlas.preset}, {atlas.image_size} px {atlas.image_format}")
    print(f"weights sha256 {atlas.weights_sha256[:16]}, featviz {atlas.featviz_version}, "
          f"{atlas.count} of {total} filters rendered")
    for layer in atlas.layers:
        rendered = atlas.filters_of(layer.name)
        dead = [entry for entry in (atlas.entry(layer.name, index) for index in rendered) if entry.dead]
        firing = sum(fires_on_photos(entry.photo_peak) for entry in dead)
        unchecked = sum(entry.photo_peak is None for entry in dead)
        print(f"{layer.name:<28} {len(rendered):>5}/{layer.filters:<5} rendered {len(dead):>5} dead"
              + (f" ({firing} fire on the sample photos" + (f", {unchecked} not checked" if unchecked else "") + ")"
                 if dead else ""))


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
        image_set = image_set_from_zip(_read_file(args.images), args.images.name)
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
    _write_file(args.output, png_bytes(examples_sheet(image_set, result, filters, pictures=pictures)))
    if args.json:
        _write_file(args.json, (json.dumps(examples_json(image_set, result, filters), indent=1) + "\n").encode())
    skipped = f", {len(image_set.skipped)} files skipped" if image_set.skipped else ""
    print(f"wrote {args.output}: top {args.top} of {len(image_set.images)} images{skipped} for {len(filters)} filters "
          f"of {args.layer} in {result.seconds:.1f} s ({result.images_per_second:.1f} images/s)")


def optimized_pictures(loaded, layer: str, filters: Sequence[int]) -> dict[int, np.ndarray]:
    """Each filter's picture with the default preset (fitted to a fixed input size): an atlas' when it has
    exactly these settings, else rendered in batches."""
    from featviz_core.ascent import batch_limit
    from featviz_core.rendering import render_batch
    from featviz_core.atlas import default_atlas_folders, find_atlases
    from featviz_core.settings import DEFAULT_PRESET, fit_to_model_input, preset

    settings = fit_to_model_input(preset(DEFAULT_PRESET, model=loaded.name, layer=layer), loaded.input_size)
    pictures = {}
    for atlas in find_atlases(default_atlas_folders())[0]:
        for index in filters:
            entry = atlas.match(settings.with_changes(filter=index))
            if entry is not None and index not in pictures:
                pictures[index] = entry.image()
    missing = [index for index in filters if index not in pictures]
    batch = batch_limit(settings)
    for first in range(0, len(missing), batch):
        chunk = missing[first:first + batch]
        bar = ProgressBar(f"pictures {chunk[0]}-{chunk[-1]}", settings.total_steps)
        pictures.update((result.settings.filter, result.image) for result in render_batch(
            settings, chunk, loaded, on_progress=lambda event: bar(event.step, float(event.losses.mean()))))
        bar.finish()
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

    data = _read_file(args.photo)
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
    _write_file(args.output, png_bytes(dissection_sheet(found, pictures, patches, group_pictures)))
    if args.json:
        _write_file(args.json, (json.dumps(dissection_json(found)) + "\n").encode())
    from_atlas = sum(picture.source == "atlas" for picture in pictures.values())
    rows, cols = found.grid.shape
    print(f"wrote {args.output}: {rows} x {cols} cells of {args.layer}, {len(pictures)} filters shown "
          f"({from_atlas} pictures from an atlas, {len(pictures) - from_atlas} photo patches), "
          f"{len(found.groups.groups) if found.groups else 0} groups, in {time.perf_counter() - began:.1f} s")


def _group_pictures(loaded, layer: str, found) -> list[np.ndarray]:
    """Each neuron group's picture: the default preset climbing the group's weighted channels."""
    from featviz_core.rendering import render_batch
    from featviz_core.settings import DEFAULT_PRESET, fit_to_model_input, preset

    weights = found.groups.channel_weights
    settings = fit_to_model_input(preset(DEFAULT_PRESET, model=loaded.name, layer=layer, channel_weights=weights),
                                  loaded.input_size)
    bar = ProgressBar(f"{len(weights)} group pictures", settings.total_steps)
    results = render_batch(settings, range(len(weights)), loaded,
                           on_progress=lambda event: bar(event.step, float(event.losses.mean())))
    bar.finish()
    return [result.image for result in results]


COMMANDS = {"layers": command_layers, "render": command_render, "gallery": command_gallery, "atlas": command_atlas,
            "examples": command_examples, "dissect": command_dissect}


def _is_usage_error(error: Exception) -> bool:
    """Bad input the user can fix: arguments, settings, files, models, atlases (all TensorFlow-free
    to import). Any other error is a bug and keeps its traceback."""
    from featviz_core.atlas import AtlasError
    from featviz_core.catalog import ModelLoadError
    from featviz_core.settings import SettingsError
    from featviz_core.ascent.start_images import BadImageError

    return isinstance(error, (CliError, SettingsError, BadImageError, AtlasError, ModelLoadError))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns 0 on success, 2 on bad input (with a one-line message), never a traceback."""
    parser = build_parser()
    args = parser.parse_args(with_default_atlas_command(sys.argv[1:] if argv is None else argv))  # exits 2 on bad syntax
    try:
        COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("\nfeatviz: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not _is_usage_error(error):
            raise
        print(f"featviz: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    return 0


NATIVE_NOISE = re.compile(  # TensorFlow's start-up lines, which TF_CPP_MIN_LOG_LEVEL=2 is meant to hide
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "  # absl's info and warning lines
    rb"|\d{4}-\d\d-\d\d [\d:.]+: [IW] \S+:\d+\] "  # the same before TensorFlow 2.16
    rb"|E\d{4} [^\]]*\] (failed call to cuInit|Unable to register cu\w+ factory)"  # no GPU, or a second registration
    rb"|To enable the following instructions: "  # cpu_feature_guard's second line
    rb"|TF-TRT Warning: Could not find TensorRT"
)


def _forward_native_logs(source: int) -> None:
    """Copy the lines read from `source` to file descriptor 2, without the start-up noise, until every writer
    has closed it."""
    with open(source, "rb") as lines, open(2, "wb", closefd=False) as terminal:
        for line in lines:
            if not NATIVE_NOISE.match(line):
                terminal.write(line)
                terminal.flush()


def mute_native_logs() -> None:
    """Drop TensorFlow's C++ start-up lines (TensorFlow 2.19+ writes them before it reads
    TF_CPP_MIN_LOG_LEVEL) and keep everything else native code writes to file descriptor 2: a crash,
    an out-of-memory message. Fd 2 becomes a pipe read by a forked process, which outlives a crash of
    this one; Python's own stderr (errors, progress) keeps the real terminal. Call it first, before any
    thread starts. FEATVIZ_NATIVE_LOGS=1 keeps every line."""
    if os.environ.get(NATIVE_LOGS) == "1" or not hasattr(os, "fork"):
        return
    sys.stderr.flush()
    source, sink = os.pipe()
    if os.fork() == 0:
        os.close(sink)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the command, which then closes the pipe
        try:
            _forward_native_logs(source)
        finally:
            os._exit(0)
    os.close(source)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    os.dup2(sink, 2)
    os.close(sink)


def run() -> None:
    """The installed `featviz` command: glibc's heap tuned, native start-up logs filtered, then main()."""
    tune_heap()
    mute_native_logs()
    sys.exit(main())


if __name__ == "__main__":
    run()
