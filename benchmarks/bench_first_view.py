"""The dashboard's first view rendered live: featviz 0.5's default against today's, in one process.

    python benchmarks/bench_first_view.py                        # this CPU's fastest precision
    FEATVIZ_PRECISION=float32 python benchmarks/bench_first_view.py

block5_conv3 filter 0 of vgg16-offline, each recipe compiled first, then rendered twice in turns; prints
the best of two of each and their ratio.
"""

from __future__ import annotations

import time

from bench_legibility import OLD_DEFAULT


def main() -> None:
    from featviz_core.cli import mute_native_logs

    mute_native_logs()
    from featviz_core.ascent import cached_model
    from featviz_core.rendering import render
    from featviz_core.models.precision import compute_dtype
    from featviz_core.settings import RenderSettings, preset

    loaded = cached_model("vgg16-offline")
    recipes = {"featviz 0.5 default": RenderSettings(model="vgg16-offline", layer="block5_conv3", **OLD_DEFAULT),
               "default": preset("robust", layer="block5_conv3", filter=0)}
    for settings in recipes.values():
        render(settings, loaded, on_progress=lambda event: event.step < 2)  # compile: not render time
    seconds: dict[str, list[float]] = {name: [] for name in recipes}
    for _ in range(2):
        for name, settings in recipes.items():
            began = time.perf_counter()
            render(settings, loaded)
            seconds[name].append(time.perf_counter() - began)
    old, new = (min(values) for values in seconds.values())
    print(f"{compute_dtype()}: featviz 0.5 default {old:.1f} s, default {new:.1f} s, ratio {new / old:.2f}x")


if __name__ == "__main__":
    main()
