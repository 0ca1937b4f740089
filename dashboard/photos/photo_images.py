"""Images the photo page shows besides the core's overlays (`featviz_core.dissect.overlays`): a row of
pictures, and a composed photo as a JPEG for the grid chart's background."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image


def side_by_side(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Images resized to size x size, in a row."""
    return np.hstack([np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
                      for image in images])


def jpeg_bytes(image: np.ndarray, quality: int = 88) -> bytes:
    """A JPEG file of the image (a composed photo: far smaller than a PNG)."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
