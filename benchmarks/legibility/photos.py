"""The natural photos the legibility measures use: every photo the installed packages ship, offline.

scikit-image's sample photos (the set Explore shows dataset examples from), each also as four corner
crops of 60% of its sides (seen at about 1.7x, since every image is scored at the same size) so that a
filter's best patches come from more than 17 places, and scikit-image's bundled faces
(Labeled Faces in the Wild, 200 small grayscale faces) as two contact sheets. Photo crops give the
spread of every filter's response on natural images (the z-scores of `measures`).
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from featviz_core.examples.image_sets import ImageSet, NamedImage, sample_image_set

FACE_SIDE = 64  # each LFW face (25 x 25) enlarged to this
FACES_PER_SHEET = 100


CORNER_SHARE = 0.6


def _corners(image: NamedImage) -> list[NamedImage]:
    """The image's four corner crops, each CORNER_SHARE of its height and width."""
    height, width = image.pixels.shape[:2]
    crop_height, crop_width = round(height * CORNER_SHARE), round(width * CORNER_SHARE)
    stem, suffix = image.name.rsplit(".", 1)
    return [NamedImage(f"{stem}_{name}.{suffix}", np.ascontiguousarray(image.pixels[top:top + crop_height,
                                                                                     left:left + crop_width]))
            for name, top, left in (("top_left", 0, 0), ("top_right", 0, width - crop_width),
                                    ("bottom_left", height - crop_height, 0),
                                    ("bottom_right", height - crop_height, width - crop_width))]


def _face_sheets() -> list[NamedImage]:
    """skimage.data.lfw_subset() (bundled: 200 faces, 25 x 25, gray 0..1) as sheets of 10 x 10 faces."""
    from skimage import data

    faces = (np.clip(data.lfw_subset(), 0, 1) * 255).astype(np.uint8)
    sheets = []
    for first in range(0, len(faces), FACES_PER_SHEET):
        tiles = [np.asarray(Image.fromarray(face).resize((FACE_SIDE, FACE_SIDE), Image.Resampling.BICUBIC))
                 for face in faces[first:first + FACES_PER_SHEET]]
        rows = [np.concatenate(tiles[row:row + 10], axis=1) for row in range(0, len(tiles), 10)]
        gray = np.concatenate(rows, axis=0)
        sheets.append(NamedImage(f"lfw_faces_{first // FACES_PER_SHEET}.png", np.repeat(gray[..., None], 3, axis=-1)))
    return sheets


@functools.lru_cache(maxsize=1)
def legibility_photos() -> ImageSet:
    """The sample photos, their corner crops, and the face sheets."""
    samples = sample_image_set()
    images = list(samples.images) + [crop for image in samples.images for crop in _corners(image)] + _face_sheets()
    return ImageSet("natural photos (scikit-image samples, their corners, LFW faces)",
                    f"{samples.identity}+corners+lfw", tuple(images))


def photo_crops(image_set: ImageSet, size: int, per_photo: int, seed: int = 0) -> np.ndarray:
    """(N, size, size, 3) uint8 random square crops (a quarter to all of the shorter side), resized to `size`."""
    rng = np.random.default_rng(seed)
    crops = []
    for image in image_set.images:
        height, width = image.pixels.shape[:2]
        for _ in range(per_photo):
            side = int(rng.uniform(0.25, 1.0) * min(height, width))
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
            crop = Image.fromarray(image.pixels[top:top + side, left:left + side])
            crops.append(np.asarray(crop.resize((size, size), Image.Resampling.BICUBIC)))
    return np.stack(crops)
