"""Speed and peak memory of dataset examples (featviz_core.examples.layer_examples).

    python benchmarks/bench_examples.py                       # vgg16-offline, the scikit-image samples
    python benchmarks/bench_examples.py --layers block5_conv3 --batch 4

For each layer: one pass over the image set that scores every filter, in images per second, and the
process' peak memory (VmHWM from /proc/self/status) with its growth over the baseline measured after
the model and the images are loaded (and a small warm-up pass has run).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def status_mb(field: str) -> float:
    """A memory line of /proc/self/status (VmHWM, VmRSS) in MB; 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="vgg16-offline")
    parser.add_argument("--layers", default="block1_conv2,block3_conv3,block5_conv3")
    parser.add_argument("--images", help="a folder of images (default: the scikit-image samples)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--top", type=int, default=9)
    args = parser.parse_args()

    from featviz_core.examples import layer_examples
    from featviz_core.examples.image_sets import image_set_from_folder, sample_image_set
    from featviz_core.models import load_model

    began = time.perf_counter()
    loaded = load_model(args.model)
    images = image_set_from_folder(args.images) if args.images else sample_image_set()
    print(f"{args.model} and {len(images.images)} images ({images.name}) loaded in {time.perf_counter() - began:.1f} s; "
          f"CPU cores {os.cpu_count()}")
    warm = type(images)(images.name, images.identity, images.images[:2], ())
    layer_examples(loaded, loaded.layers[0].name, warm, top=1, batch=args.batch)
    baseline = status_mb("VmRSS")
    print(f"baseline RSS {baseline:.0f} MB (peak so far {status_mb('VmHWM'):.0f} MB)")
    print(f"{'layer':<16} {'filters':>7} {'seconds':>8} {'images/s':>9} {'peak MB':>8} {'growth MB':>10}")
    for layer in [name.strip() for name in args.layers.split(",") if name.strip()]:
        result = layer_examples(loaded, layer, images, top=args.top, batch=args.batch)
        peak = status_mb("VmHWM")
        print(f"{layer:<16} {result.filters:>7} {result.seconds:>8.2f} {result.images_per_second:>9.2f} "
              f"{peak:>8.0f} {peak - baseline:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
