"""The `featviz` command line: list layers, render one filter, render a layer gallery."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    from .settings import PRESETS, START_KINDS

    parser = argparse.ArgumentParser(prog="featviz", description="See what a CNN filter responds to.")
    commands = parser.add_subparsers(dest="command", required=True)

    layers = commands.add_parser("layers", help="list the visualizable layers of a model")
    layers.add_argument("model", help="registered model name (e.g. vgg16-offline) or a .keras file")

    def add_render_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--preset", choices=list(PRESETS), default="quick")
        sub.add_argument("--start", choices=START_KINDS, default="noise")
        sub.add_argument("--photo", type=Path, help="image file for --start photo")
        sub.add_argument("--steps", type=int, help="steps per octave")
        sub.add_argument("--octaves", type=int, help="number of octaves")
        sub.add_argument("--upscale", type=float, help="upscale factor between octaves")
        sub.add_argument("--step-size", type=float, help="ascent step size")
        sub.add_argument("--size", type=int, help="final image size in pixels")
        sub.add_argument("--seed", type=int, default=0)

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
    return parser


def settings_from_args(args: argparse.Namespace):
    from .settings import preset

    overrides = {
        "steps_per_octave": args.steps, "octaves": args.octaves, "upscale_factor": args.upscale,
        "step_size": args.step_size, "final_size": args.size,
    }
    chosen = {key: value for key, value in overrides.items() if value is not None}
    photo = None
    if args.start == "photo":
        if args.photo is None:
            raise CliError("--start photo needs --photo FILE")
        photo = _read_file(args.photo)
    return preset(args.preset, model=args.model, layer=args.layer, filter=getattr(args, "filter", 0),
                  start=args.start, start_photo=photo, seed=args.seed, **chosen)


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

    def __call__(self, done: int, loss: float) -> None:
        width = 30
        filled = int(width * done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} loss {loss:.3f}")
        sys.stderr.flush()
        self.drawn = True

    def finish(self) -> None:
        """End the bar's line (a run can stop early: cancelled, or every filter dead)."""
        if self.drawn:
            sys.stderr.write("\n")


def command_layers(args: argparse.Namespace) -> None:
    from .models import load_model

    loaded = load_model(args.model)
    print(f"{loaded.name}: {loaded.description}")
    for info in loaded.layers:
        print(f"{info.name:<28} {info.filters:>5} filters  ({info.kind})")


def command_render(args: argparse.Namespace) -> None:
    from .ascent import render
    from .imaging import gif_bytes, png_bytes
    from .models import load_model
    from .start_images import decode_photo

    settings = settings_from_args(args)
    if settings.start_photo:
        decode_photo(settings.start_photo)
    loaded = load_model(settings.model)
    settings.check_layer(loaded.layers)
    bar = ProgressBar(f"{settings.layer}:{settings.filter}", settings.total_steps)
    result = render(settings, loaded, on_progress=lambda event: bar(event.step, float(event.losses[0])))
    bar.finish()
    _write_file(args.output, png_bytes(result.image))
    if args.gif:
        _write_file(args.gif, gif_bytes([snap.image for snap in result.snapshots]))
    state = "dead (activation stayed at zero)" if result.dead else f"final activation {result.final_activation:.3f}"
    print(f"wrote {args.output}: {state}, {result.steps_run} steps in {result.seconds:.1f} s on {result.device}")


def command_gallery(args: argparse.Namespace) -> None:
    from .ascent import batch_limit, render_batch
    from .imaging import collage, png_bytes
    from .models import load_model

    settings = settings_from_args(args)
    loaded = load_model(settings.model)
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


COMMANDS = {"layers": command_layers, "render": command_render, "gallery": command_gallery}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns 0 on success, 2 on bad input (with a one-line message), never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits with 2 on bad syntax
    from .models import ModelLoadError

    try:
        COMMANDS[args.command](args)
    except (CliError, ValueError, ModelLoadError) as error:
        print(f"featviz: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("\nfeatviz: interrupted", file=sys.stderr)
        return 130
    return 0


def mute_native_logs() -> None:
    """Send what TensorFlow's C++ code writes to file descriptor 2 to /dev/null (TensorFlow 2.19+ no
    longer honours TF_CPP_MIN_LOG_LEVEL for its start-up lines); Python's own stderr (errors, progress,
    warnings) keeps the real terminal. FEATVIZ_NATIVE_LOGS=1 keeps the native logs."""
    if os.environ.get(NATIVE_LOGS) == "1":
        return
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = terminal


def run() -> None:
    """The installed `featviz` command: quiet native logs, then main()."""
    mute_native_logs()
    sys.exit(main())


if __name__ == "__main__":
    run()
