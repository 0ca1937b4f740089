"""What the commands share: errors, filter ranges, files, settings from the options, and rendering with a
progress bar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence


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
        photo = read_file(args.photo)
    return preset(args.preset, model=args.model, layer=args.layer, filter=getattr(args, "filter", 0),
                  start=args.start, start_photo=photo, seed=args.seed, **chosen)


def fitted_to_model(settings, loaded, args: argparse.Namespace):
    """For a model that takes one input size only, the preset scaled down to it (settings.fit_to_input_size),
    unless the size or schedule was given (--size, --octaves, --steps)."""
    from featviz_core.settings import fit_to_model_input

    if any(value is not None for value in (args.size, args.octaves, args.steps, args.final_steps)):
        return settings
    return fit_to_model_input(settings, loaded.input_size)


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from None


def write_file(path: Path, data: bytes) -> None:
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


def rendered_with_bar(settings, filters: Sequence[int], loaded, label: str, batch: int | None = None) -> list:
    """Render these filters of `settings.layer` in batches (`batch`, or as many as fit: `ascent.batch_limit`), each
    with a progress bar on stderr ("LABEL a-b"): the one way the commands render."""
    from featviz_core.ascent import batch_limit
    from featviz_core.rendering import render_batch

    filters = list(filters)
    size = batch_limit(settings) if batch is None else batch
    if size < 1:
        raise CliError("--batch must be at least 1")
    results = []
    for first in range(0, len(filters), size):
        chunk = filters[first:first + size]
        bar = ProgressBar(f"{label} {chunk[0]}-{chunk[-1]}", settings.total_steps)
        try:
            results += render_batch(settings, chunk, loaded,
                                    on_progress=lambda event: bar(event.step, float(event.losses.mean())))
        finally:
            bar.finish()
    return results
