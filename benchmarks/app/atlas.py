"""Scenario 1, atlas: a just-started server, the first picture of the first view, then more atlas views and a
gallery page in new sessions: times, whether each was precomputed, the server's memory, and whether
TensorFlow got into the server."""

from __future__ import annotations

import argparse
import time

from harness import ROOT, STATE_JS, follow, new_page, precomputed, running_chromium

from .common import DEFAULT_LAYER, MODEL, NOW, PAGE_TIMEOUT_MS, Server

ATLAS = ROOT / "atlas" / "vgg16-offline"

# Installed before the page loads: notes when the first main-area picture is drawn, in ms since the page's
# navigation began (the page's own clock, next to the poll's figure, which is up to POLL_S late).
PICTURE_DRAWN_JS = """() => {
  const seen = new WeakSet();
  new MutationObserver(() => {
    for (const img of document.querySelectorAll("[data-testid='stMain'] img")) {
      if (seen.has(img)) continue;
      seen.add(img);
      img.decode().then(() => requestAnimationFrame(() => { window.pictureDrawnMs ??= performance.now(); }),
                        () => {});
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def open_shipped_atlas():
    """The repository's atlas of the offline VGG16 (read without TensorFlow), or None."""
    from featviz_core.atlas import open_atlas

    try:
        return open_atlas(ATLAS)
    except Exception as error:  # noqa: BLE001 - a missing or half-written atlas is a finding, not a crash
        print(f"  (no usable atlas at {ATLAS.relative_to(ROOT)}: {error})")
        return None


def in_atlas(atlas, layer: str, index: int, preset_name: str) -> bool:
    from featviz_core.settings import preset

    return atlas is not None and atlas.match(preset(preset_name, model=MODEL, layer=layer, filter=index)) is not None


def atlas_views(atlas) -> tuple[str, list[tuple[str, str]], tuple[str, int] | None]:
    """The first view (query), a few more atlas views, and a gallery (layer, pictures expected)."""
    layers = [info.name for info in atlas.layers if atlas.filters_of(info.name)]
    if in_atlas(atlas, DEFAULT_LAYER, 0, atlas.preset):
        first = ""
    else:
        deepest = layers[-1]
        first = f"?layer={deepest}&filter={atlas.filters_of(deepest)[0]}"
    more: list[tuple[str, str]] = []
    for layer in reversed(layers):  # deep layers first: what a visitor opens from the default view
        for index in atlas.filters_of(layer)[:2]:
            query = f"?layer={layer}&filter={index}"
            if len(more) < 4 and query != first and not (first == "" and (layer, index) == (DEFAULT_LAYER, 0)):
                more.append((query, f"{layer} #{index}"))
    fullest = max(layers, key=lambda name: len([i for i in atlas.filters_of(name) if i < 16]))
    shown = len([index for index in atlas.filters_of(fullest) if index < 16])
    return first, more, (fullest, shown)


def warm_up(browser, url: str) -> None:
    """Open `url` in a throwaway context: the browser's own start-up (processes, a renderer for the
    server's origin) is then done, as in a visitor's running browser, while nothing of the app is
    cached (each context has its own cache) and no app session starts (`url` is not the app)."""
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    page.goto(url)
    context.close()


def first_view(browser, server: Server, first: str, view_timeout: float) -> None:
    """The first picture of the first view (`first`: its query, "" for the default URL) in a new session."""
    default_in = first == ""
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    page.add_init_script(f"({PICTURE_DRAWN_JS})()")
    server.doing = "opening the first view"
    began = time.perf_counter()
    page.goto(f"{server.url}/{first}")
    frame, _ = follow(page, server.check, lambda s: s["title"], began, view_timeout)
    seconds, state = follow(page, server.check, lambda s: s["pictures"] > 0, began, view_timeout)
    rss, hwm, tf = server.rss(), server.hwm(), server.tensorflow()
    shown_precomputed = precomputed(state)
    controls, _ = follow(page, server.check, lambda s: s["controls"], began, view_timeout)
    chart, _ = follow(page, server.check, lambda s: s["chart"], began, view_timeout)
    idle, _ = follow(page, server.check, lambda s: s["idle"], began, view_timeout)
    drawn = page.evaluate("() => window.pictureDrawnMs ?? null")
    cannot = [text for text in state["sidebar"] + page.evaluate(STATE_JS)["sidebar"] if "cannot render" in text]
    print(f"  first picture {seconds:.2f} s after page.goto ({'default URL' if default_in else first}; "
          f"page title at {frame:.2f} s), precomputed: {'yes' if shown_precomputed else 'NO'}; "
          f"sidebar controls at {controls:.2f} s; loss chart (Plotly) drawn at {chart:.2f} s; "
          f"page idle at {idle:.2f} s")
    if drawn is not None:
        print(f"  (the picture was drawn {drawn / 1000:.2f} s after the navigation began, by the page's own clock)")
    print(f"  server then: RSS {rss:.0f} MB, VmHWM {hwm:.0f} MB, TensorFlow {'LOADED' if tf else 'not loaded'}")
    print("  sidebar: " + (" ".join(cannot[0].split()) if cannot else "no 'cannot render live' warning "
                           "(this server can render vgg16-offline live)"))
    context.close()
    drawn_note = "" if drawn is None else f" (drawn at {drawn / 1000:.2f})"
    NOW["first picture (s from page open)"] = (f"{seconds:.2f} s{drawn_note}"
                                               + ("" if default_in else f" ({first[1:]})"))
    NOW["first picture precomputed / TensorFlow in server"] = (f"{'yes' if shown_precomputed else 'no'} / "
                                                               f"{'yes' if tf else 'no'}")
    NOW["server RSS at first picture"] = f"{rss:.0f} MB (VmHWM {hwm:.0f})"


def browse(browser, server: Server, more: list[tuple[str, str]], gallery: tuple[str, int], view_timeout: float
           ) -> None:
    """More atlas views (query, label), then a gallery page (layer, pictures expected), each in a new session."""
    for query, label in more:
        server.doing = f"opening {label}"
        context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
        began = time.perf_counter()
        page.goto(f"{server.url}/{query}")
        seconds, state = follow(page, server.check, lambda s: s["pictures"] > 0, began, view_timeout)
        print(f"  {label:<18} new session: picture {seconds:.2f} s, precomputed: "
              f"{'yes' if precomputed(state) else 'NO'}; {server.memory()}")
        context.close()
    layer, expected = gallery
    server.doing = f"opening the gallery of {layer}"
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    began = time.perf_counter()
    page.goto(f"{server.url}/gallery?layer={layer}")
    seconds, state = follow(page, server.check, lambda s: s["pictures"] >= expected and s["idle"], began,
                            view_timeout)
    print(f"  gallery {layer} (filters 0-15, {expected} in the atlas) new session: {state['pictures']} pictures "
          f"in {seconds:.2f} s; {server.memory()}")
    context.close()


def run(args: argparse.Namespace) -> None:
    """Scenario 1 on its own just-started server."""
    print("\n== 1. atlas: a just-started server, the first picture, then browsing the atlas ==", flush=True)
    atlas = open_shipped_atlas()
    if atlas is None or atlas.count == 0:
        NOW["first picture (s from page open)"] = "no atlas"
        return
    total = sum(info.filters for info in atlas.layers)
    first, more, gallery = atlas_views(atlas)
    default_in = first == ""
    print(f"  atlas {ATLAS.relative_to(ROOT)}: {atlas.count} of {total} filters, preset {atlas.preset}; default view "
          f"({DEFAULT_LAYER} #0 {atlas.preset}) {'IS' if default_in else 'is NOT yet'} in it"
          + ("" if default_in else f", so the first view is the deepest atlas layer: {first}"))
    with Server("atlas", args) as server:
        with running_chromium() as browser:
            warm_up(browser, f"{server.url}/_stcore/health")  # a visitor's browser is already running
            first_view(browser, server, first, args.view_timeout)
            browse(browser, server, more, gallery, args.view_timeout)
        time.sleep(1.0)
        print(f"  after browsing: {server.memory()}")
        NOW["server VmHWM after browsing the atlas"] = (f"{server.hwm():.0f} MB, TensorFlow "
                                                        f"{'loaded' if server.tensorflow() else 'not loaded'}")
