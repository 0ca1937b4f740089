"""A before/after contact sheet of two atlases of the same model: one row per atlas for each layer.

    python benchmarks/atlas_sheet.py OLD_ATLAS NEW_ATLAS -o docs/atlas_before_after.webp \\
        --layers block2_conv2,block3_conv3,block5_conv3 --filters 0-7

Filters missing from either atlas are left out. Dead entries show as the dashboard's dead tile. No TensorFlow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package `dashboard` (this tree's featviz_core too)
from dashboard.display import tiles  # noqa: E402  (the dashboard's dead tile)
from featviz_core.atlas import open_atlas  # noqa: E402
from featviz_core.imaging import resize  # noqa: E402

CELL, LABEL = 112, 16


def picture(atlas, layer: str, index: int) -> np.ndarray:
    entry = atlas.entry(layer, index)
    return tiles.dead_tile(CELL, entry.photo_peak) if entry.dead else resize(entry.image(), CELL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--layers", required=True, help="layer names, comma-separated")
    parser.add_argument("--filters", default="0-7", help="a range such as 0-7")
    args = parser.parse_args()
    low, high = (int(part) for part in args.filters.split("-"))
    before, after = open_atlas(args.before), open_atlas(args.after)
    rows: list[tuple[str, list[np.ndarray]]] = []
    for layer in args.layers.split(","):
        both = [index for index in range(low, high + 1)
                if index in before.filters_of(layer) and index in after.filters_of(layer)]
        for name, atlas in ((f"{layer} {both[0]}-{both[-1]}: before (featviz {before.featviz_version})", before),
                            (f"{layer}: after (featviz {after.featviz_version})", after)):
            rows.append((name, [picture(atlas, layer, index) for index in both]))
    width = CELL * max(len(images) for _, images in rows)
    sheet = Image.new("RGB", (width, len(rows) * (CELL + LABEL)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for line, (name, images) in enumerate(rows):
        top = line * (CELL + LABEL)
        draw.text((4, top + 2), name, fill=(0, 0, 0))
        for column, image in enumerate(images):
            sheet.paste(Image.fromarray(image), (column * CELL, top + LABEL))
    sheet.save(args.output, quality=85)
    print(f"wrote {args.output}: {len(rows)} rows")


if __name__ == "__main__":
    main()
