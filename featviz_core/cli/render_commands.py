"""`featviz layers`, `featviz render` and `featviz gallery`."""

from __future__ import annotations

import argparse

from featviz_core.cli.common import CliError, fitted_to_model, parse_filter_range, rendered_with_bar, settings_from_args, write_file


def command_layers(args: argparse.Namespace) -> None:
    from featviz_core.models import load_model

    loaded = load_model(args.model)
    print(f"{loaded.name}: {loaded.description}")
    for info in loaded.layers:
        print(f"{info.name:<28} {info.filters:>5} filters  ({info.kind})")


def command_render(args: argparse.Namespace) -> None:
    from featviz_core.imaging import collage, gif_bytes, png_bytes
    from featviz_core.models import load_model
    from featviz_core.ascent.start_images import decode_photo

    settings = settings_from_args(args)
    if settings.start_photo:
        decode_photo(settings.start_photo)
    loaded = load_model(settings.model)
    settings = fitted_to_model(settings, loaded, args)
    settings.check_layer(loaded.layers)
    result = rendered_with_bar(settings, [settings.filter], loaded, settings.layer)[0]
    pictures = [result.image, *result.variants]
    write_file(args.output, png_bytes(collage(pictures) if len(pictures) > 1 else result.image))
    if args.gif:
        write_file(args.gif, gif_bytes([snap.image for snap in result.snapshots]))
    state = (f"dead (activation stayed at zero; the filter {result.dead_note})" if result.dead
             else f"final activation {result.final_activation:.3f}")
    print(f"wrote {args.output}: {state}, {result.steps_run} steps in {result.seconds:.1f} s on {result.device}")


def command_gallery(args: argparse.Namespace) -> None:
    from featviz_core.imaging import collage, png_bytes
    from featviz_core.models import load_model

    settings = settings_from_args(args)
    loaded = load_model(settings.model)
    settings = fitted_to_model(settings, loaded, args)
    filters = parse_filter_range(args.filters)
    for index in filters:
        settings.with_changes(filter=index).check_layer(loaded.layers)
    results = rendered_with_bar(settings, filters, loaded, "filters", args.batch)
    alive = [r for r in results if not r.dead]
    dead = [r.settings.filter for r in results if r.dead]
    if args.order == "loss":
        alive.sort(key=lambda r: r.final_loss, reverse=True)
    if not alive:
        raise CliError(f"all {len(results)} filters are dead (activation stayed at zero); nothing to draw")
    write_file(args.output, png_bytes(collage([r.image for r in alive])))
    print(f"wrote {args.output}: {len(alive)} filters" + (f"; dead filters (left out): {dead}" if dead else ""))
