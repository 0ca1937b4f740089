"""`featviz atlas build | merge | info`."""

from __future__ import annotations

import argparse
import sys

from featviz_core.cli.common import CliError, ProgressBar, parse_filter_range, parse_shard, setting_overrides


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
