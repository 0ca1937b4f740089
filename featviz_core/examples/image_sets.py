"""Image sets for dataset examples: the photos bundled with scikit-image, a folder, a zip or uploaded files.

No TensorFlow here: a set is plain uint8 RGB pixels, decoded like a start photo (EXIF rotation,
odd modes converted, at most 1024 px a side), with the files that could not be used listed by
name and reason. A set's `identity` is a sha256 over the names and bytes of the accepted images,
so two uploads of the same zip share a cache entry.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

from featviz_core.ascent.start_images import MAX_PHOTO_BYTES, PHOTO_MAX_SIDE, BadImageError, decode_photo

MAX_SET_IMAGES = 500
MAX_SET_BYTES = 200 * 2**20  # decoded pixels of the whole set (uint8 RGB), and the files read to get them
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                            ".pnm", ".pbm"})
SAMPLE_SET_NAME = "scikit-image samples"
# skimage.data photos that ship with the package (no pooch download), natural pictures first.
SAMPLE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "camera", "coins", "clock", "moon",
                 "page", "text", "brick", "grass", "gravel", "immunohistochemistry", "hubble_deep_field", "retina")


class ImageSetError(BadImageError):
    """An image set cannot be used at all (not a zip, no usable image); the message says why."""


@dataclass(frozen=True)
class NamedImage:
    """One image of a set: its file name (path inside the folder or zip) and uint8 RGB pixels (H, W, 3)."""

    name: str
    pixels: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class ImageSet:
    """Images to search for dataset examples, and the files that were skipped (name, reason)."""

    name: str
    identity: str
    images: tuple[NamedImage, ...] = field(repr=False)
    skipped: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.images)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(image.name for image in self.images)


class _Collector:
    """Decodes files one at a time into a set, enforcing the set's limits; unusable files are skipped."""

    def __init__(self, name: str, max_bytes: int = MAX_SET_BYTES) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.images: list[NamedImage] = []
        self.skipped: list[tuple[str, str]] = []
        self.digest = hashlib.sha256()
        self.read_bytes = 0
        self.pixel_bytes = 0

    def full(self) -> str | None:
        """Why no more images are taken, or None."""
        if len(self.images) >= MAX_SET_IMAGES:
            return f"the set already has the maximum of {MAX_SET_IMAGES} images"
        if self.pixel_bytes >= self.max_bytes or self.read_bytes >= self.max_bytes:
            return f"the set already holds the maximum of {self.max_bytes // 2**20} MB"
        return None

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append((name, " ".join(reason.split())))

    def add(self, name: str, size: int, read: Callable[[], bytes]) -> None:
        """Take one file (`size` bytes, read by `read`) unless it is hidden, not an image or undecodable."""
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in IMAGE_SUFFIXES:
            self.skip(name, f"not an image file ({suffix or 'no extension'})")
            return
        limit = self.full()
        if limit:
            self.skip(name, f"not read: {limit}")
            return
        if size > MAX_PHOTO_BYTES:
            self.skip(name, f"{size / 2**20:.1f} MB; the limit is {MAX_PHOTO_BYTES // 2**20} MB per image")
            return
        try:
            data = read()
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError) as error:
            self.skip(name, f"cannot read it ({error})")
            return
        self.read_bytes += len(data)
        try:
            pixels = np.asarray(decode_photo(data), dtype=np.uint8)
        except BadImageError as error:
            self.skip(name, str(error))
            return
        self.accept(name, pixels, data)

    def accept(self, name: str, pixels: np.ndarray, data: bytes) -> None:
        encoded = name.encode("utf-8", "surrogateescape")
        self.digest.update(len(encoded).to_bytes(8, "little") + encoded)
        self.digest.update(len(data).to_bytes(8, "little") + data)
        self.pixel_bytes += pixels.nbytes
        self.images.append(NamedImage(name, pixels))

    def result(self) -> ImageSet:
        if not self.images:
            first = f" ({self.skipped[0][0]}: {self.skipped[0][1]})" if self.skipped else ""
            raise ImageSetError(f"no usable images in {self.name}: {len(self.skipped)} files skipped{first}")
        return ImageSet(self.name, self.digest.hexdigest(), tuple(self.images), tuple(self.skipped))


def _hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def image_set_from_folder(path: str | Path) -> ImageSet:
    """The image files under `path` (recursively, sorted by relative path, hidden files ignored)."""
    root = Path(path)
    if not root.is_dir():
        raise ImageSetError(f"image folder not found: {root}")
    collector = _Collector(root.name or str(root))
    for file in _folder_files(root):
        relative = file.relative_to(root).as_posix()
        try:
            size = file.stat().st_size
        except OSError as error:
            collector.skip(relative, f"cannot read it ({error.strerror or error})")
            continue
        collector.add(relative, size, file.read_bytes)
    return collector.result()


def _folder_files(root: Path) -> Iterator[Path]:
    found = []
    for file in root.rglob("*"):
        relative = file.relative_to(root)
        if not _hidden(relative.parts) and file.is_file():
            found.append(file)
    yield from sorted(found, key=lambda file: file.relative_to(root).as_posix())


def image_set_from_zip(data: bytes, name: str) -> ImageSet:
    """The image files inside a zip archive (sorted by path, hidden entries and folders ignored)."""
    collector = _Collector(name)
    _add_zip(collector, data, name)
    return collector.result()


def image_set_from_files(files: Sequence[tuple[str, bytes]], name: str, max_bytes: int = MAX_SET_BYTES) -> ImageSet:
    """Uploaded files (name, bytes): images are taken as they are, zips are opened (their entries named
    "archive.zip/path"), anything else is skipped; at most `max_bytes` of pixels are kept."""
    collector = _Collector(name, max_bytes)
    for file_name, data in files:
        if PurePosixPath(file_name).suffix.lower() == ".zip":
            _add_zip(collector, data, file_name, prefix=f"{file_name}/" if len(files) > 1 else "")
        else:
            collector.add(file_name, len(data), lambda data=data: data)
    return collector.result()


def _add_zip(collector: _Collector, data: bytes, name: str, prefix: str = "") -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImageSetError(f"{name} is not a zip archive ({error}): upload a .zip of image files") from None
    with archive:
        entries = sorted((info for info in archive.infolist() if not info.is_dir()), key=lambda info: info.filename)
        for info in entries:
            if _hidden(PurePosixPath(info.filename).parts):
                continue
            collector.add(prefix + info.filename, info.file_size, functools.partial(archive.read, info))


def _sample_pixels(name: str) -> np.ndarray:
    """One skimage.data photo as uint8 RGB (gray to RGB, the stereo pair's left image)."""
    import skimage.data

    loader = skimage.data.stereo_motorcycle if name == "motorcycle" else getattr(skimage.data, name)
    pixels = loader()
    if isinstance(pixels, tuple):
        pixels = pixels[0]
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        pixels = (np.clip(pixels.astype(np.float64), 0, 1) * 255).astype(np.uint8) if pixels.dtype.kind in "fb" \
            else np.clip(pixels, 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=-1)
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


@functools.lru_cache(maxsize=1)
def sample_image_set() -> ImageSet:
    """The natural photos bundled with scikit-image (offline), named like "astronaut.png"."""
    collector = _Collector(SAMPLE_SET_NAME)
    for name in SAMPLE_PHOTOS:
        try:
            pixels = _sample_pixels(name)
        except Exception as error:  # noqa: BLE001 - a photo missing from this scikit-image version is skipped
            collector.skip(f"{name}.png", f"not in this scikit-image ({error.__class__.__name__})")
            continue
        collector.accept(f"{name}.png", pixels, pixels.tobytes() + str(pixels.shape).encode())
    return collector.result()
