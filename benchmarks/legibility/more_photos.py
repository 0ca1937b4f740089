"""A wider folder of photos for the legibility measures and the blind test, from Debian packages (offline once
fetched): OpenCV's sample images, and the KDE, MATE and UKUI desktop backgrounds, next to the bundled ones.

    python benchmarks/legibility/more_photos.py /tmp/photos/rich      # fetches 4 packages (about 260 MB)
    python benchmarks/bench_legibility.py --photos /tmp/photos/rich ...

The folder holds the photos `legibility.photos` gives (scikit-image's samples, their corners, LFW faces) and every
colour image of at least 240 px from the packages, shrunk to 512 px at most, without near-gray ones or repeats of
one wallpaper at other sizes. These images are for measuring here, not for shipping: their licences vary.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

if __package__ in (None, ""):  # run as a script: the repository root on sys.path, home of `benchmarks`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.legibility.photos import legibility_photos  # noqa: E402

PACKAGES = ("opencv-doc", "mate-backgrounds", "ukui-wallpapers", "plasma-workspace-wallpapers")
MIN_SIDE, MAX_SIDE = 240, 512
MIN_CHROMA, MIN_SPREAD = 8.0, 25.0  # below either: a near-gray image, or one of a few close colours


def fetch(packages: tuple[str, ...], into: Path) -> Path:
    """Download the packages with apt and unpack them under `into`; the unpacked usr/share."""
    subprocess.run(["apt-get", "download", *packages], cwd=into, check=True, capture_output=True)
    for deb in into.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(into / "root")], check=True)
    return into / "root" / "usr" / "share"


def candidates(share: Path) -> list[Path]:
    """OpenCV's sample images, the backgrounds, one size of each KDE wallpaper (the one nearest 1920 wide)."""
    found = sorted((share / "doc/opencv-doc/examples/data").glob("*.[jp][pn]g"))
    found += sorted((share / "backgrounds").rglob("*.jpg"))
    for folder in sorted((share / "wallpapers").iterdir()) if (share / "wallpapers").is_dir() else []:
        sizes = sorted((folder / "contents/images").glob("*.*"))
        if sizes:
            found.append(min(sizes, key=lambda path: abs(int(path.stem.split("x")[0]) - 1920)
                             if path.stem.split("x")[0].isdigit() else 9999))
    return found


def photo(path: Path) -> Image.Image | None:
    """The image shrunk to MAX_SIDE, or None when it is too small, near-gray, of a few close colours (the spread
    of all its values, channels together) or unreadable."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError):
        return None
    if min(image.size) < MIN_SIDE:
        return None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    pixels = np.asarray(image, dtype=np.float32)
    chroma = np.abs(np.diff(pixels, axis=-1)).mean() * 2
    return image if chroma >= MIN_CHROMA and pixels.std() >= MIN_SPREAD else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    bundled = legibility_photos().images
    for image in bundled:
        Image.fromarray(image.pixels).save(out / f"{Path(image.name).stem}.png")
    seen, kept = set(), 0
    with tempfile.TemporaryDirectory() as work:
        for path in candidates(fetch(PACKAGES, Path(work))):
            image = photo(path)
            if image is None:
                continue
            thumb = (np.asarray(image.resize((8, 8))) // 32).tobytes()  # one wallpaper at two sizes: one photo
            if thumb not in seen:
                seen.add(thumb)
                image.save(out / f"extra_{kept:03d}_{path.stem}.png")
                kept += 1
    print(f"{out}: {len(bundled)} bundled photos and crops, {kept} more from {', '.join(PACKAGES)}")


if __name__ == "__main__":
    main()
