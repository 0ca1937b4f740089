"""The command line's options: a subcommand per job, each with its own options."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence


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
