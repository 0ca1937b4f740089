"""A blind two-choice test of a recipe's pictures, for observers who do not know the answers.

Each trial shows the six photo patches that excite one filter most, and two pictures of the same layer
below them, A and B: that filter's and another filter's. Which one is the filter's? The trials go to
observers as plain images (no names, no hint); the answer key stays elsewhere until they have answered.

    python benchmarks/legibility/blind_test.py make --pictures out/new --patches out/patches \\
        --trials 40 --layers block4_conv1,block5_conv3 --out /tmp/trials/set_q --key /tmp/keys/set_q.json
    python benchmarks/legibility/blind_test.py score --key /tmp/keys/set_q.json answers.txt ...

`--pictures` holds one `LAYER_FILTER.png` per filter (`bench_legibility.py --save` writes them), and
`--patches` `LAYER_FILTER_K.png` (K = 0..5, best first). The pairs depend only on --seed and the filters
present, so two recipes' pictures of the same filters get the very same trials; which side holds the
answer is drawn again for each set (--side-seed). The score is the share right with its 95% interval
(normal approximation, as the published figures quote it).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

PATCHES = 6
PATCH_SIDE = 112
PICTURE_SIDE = 256
GAP = 16
LABEL_HEIGHT = 28


@dataclass(frozen=True)
class Trial:
    """One question: `layer`'s filter `target`, shown beside `other`, a filter of the same layer."""

    number: int
    layer: str
    target: int
    other: int


def pair_trials(filters_by_layer: Mapping[str, Sequence[int]], count: int, seed: int = 0) -> list[Trial]:
    """`count` trials spread evenly over the layers (each filter a target at most once), each target
    paired with another filter of its layer drawn at random."""
    rng = np.random.default_rng(seed)
    pools = {layer: list(rng.permutation(sorted(filters))) for layer, filters in sorted(filters_by_layer.items())
             if len(filters) >= 2}
    if sum(len(pool) for pool in pools.values()) < count:
        raise ValueError(f"{count} trials need at least {count} filters in layers of 2 or more")
    chosen: list[tuple[str, int]] = []
    while len(chosen) < count:
        for layer, pool in pools.items():
            if pool and len(chosen) < count:
                chosen.append((layer, int(pool.pop())))
    trials = []
    for number, (layer, target) in enumerate(chosen, start=1):
        others = [f for f in filters_by_layer[layer] if f != target]
        trials.append(Trial(number, layer, target, int(others[rng.integers(len(others))])))
    return trials


def answer_key(trials: Sequence[Trial], side_seed: int) -> dict[int, str]:
    """Which side ("A" or "B") shows each trial's target filter."""
    rng = np.random.default_rng(side_seed)
    return {trial.number: "A" if rng.random() < 0.5 else "B" for trial in trials}


def trial_image(patches: Sequence[np.ndarray], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The six patches in a row, then pictures A (left) and B (right), labelled, on white."""
    row = np.concatenate([_fit(image, PATCH_SIDE) for image in patches[:PATCHES]], axis=1)
    width = max(row.shape[1], 2 * PICTURE_SIDE + GAP)
    canvas = Image.new("RGB", (width, PATCH_SIDE + GAP + LABEL_HEIGHT + PICTURE_SIDE), "white")
    canvas.paste(Image.fromarray(row), ((width - row.shape[1]) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    top = PATCH_SIDE + GAP
    for position, (label, picture) in enumerate((("A", left), ("B", right))):
        x = (width - 2 * PICTURE_SIDE - GAP) // 2 + position * (PICTURE_SIDE + GAP)
        draw.text((x + PICTURE_SIDE // 2 - 4, top + 6), label, fill="black")
        canvas.paste(Image.fromarray(_fit(picture, PICTURE_SIDE)), (x, top + LABEL_HEIGHT))
    return np.asarray(canvas)


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    return np.asarray(Image.fromarray(np.asarray(image, np.uint8)).convert("RGB").resize((side, side),
                                                                                         Image.Resampling.LANCZOS))


def parse_answers(text: str) -> dict[int, str]:
    """Answers as written by an observer: one per line, a trial number then A or B ("7: B", "trial 7 B")."""
    answers = {}
    for line in text.splitlines():
        found = re.search(r"(\d+)\D*?\b([AB])\b", line.upper())
        if found:
            answers[int(found.group(1))] = found.group(2)
    return answers


@dataclass(frozen=True)
class Score:
    right: int
    total: int

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def half_width(self) -> float:
        """Half the 95% interval of the share (normal approximation)."""
        return 1.96 * math.sqrt(self.share * (1 - self.share) / self.total) if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.right} of {self.total} right: {self.share:.0%} +-{self.half_width:.0%}"


def score(answers: Sequence[Mapping[int, str]], key: Mapping[int, str]) -> Score:
    """All observers' answers against the key; a trial left unanswered counts as wrong."""
    right = sum(observer.get(number) == side for observer in answers for number, side in key.items())
    return Score(right, len(key) * len(answers))


def make(pictures: Path, patches: Path, count: int, seed: int, side_seed: int, out: Path, key_path: Path,
         layers: Sequence[str] = ()) -> None:
    """Write the trial images to `out` (trial_01.png, ...) and the key (with the trials) to `key_path`;
    trials from `layers` only, when given."""
    filters: dict[str, list[int]] = {}
    for path in sorted(pictures.glob("*.png")):
        layer, index = path.stem.rsplit("_", 1)
        if not layers or layer in layers:
            filters.setdefault(layer, []).append(int(index))
    trials = pair_trials(filters, count, seed)
    key = answer_key(trials, side_seed)
    out.mkdir(parents=True, exist_ok=True)
    read = lambda path: np.asarray(Image.open(path).convert("RGB"))  # noqa: E731
    for trial in trials:
        mine, theirs = (read(pictures / f"{trial.layer}_{index}.png") for index in (trial.target, trial.other))
        best = [read(patches / f"{trial.layer}_{trial.target}_{k}.png") for k in range(PATCHES)]
        left, right = (mine, theirs) if key[trial.number] == "A" else (theirs, mine)
        Image.fromarray(trial_image(best, left, right)).save(out / f"trial_{trial.number:02d}.png")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps({"key": key, "trials": [trial.__dict__ for trial in trials]}, indent=1))
    print(f"wrote {len(trials)} trials to {out} and the key to {key_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("make", help="write trial images and their answer key")
    making.add_argument("--pictures", type=Path, required=True)
    making.add_argument("--patches", type=Path, required=True)
    making.add_argument("--trials", type=int, default=40)
    making.add_argument("--seed", type=int, default=0, help="draws the pairs (keep it to compare recipes)")
    making.add_argument("--side-seed", type=int, default=1, help="draws which side holds the answer")
    making.add_argument("--layers", default="", help="only these layers, comma-separated (default: all)")
    making.add_argument("--out", type=Path, required=True)
    making.add_argument("--key", type=Path, required=True)
    scoring = commands.add_parser("score", help="score observers' answer files against a key")
    scoring.add_argument("--key", type=Path, required=True)
    scoring.add_argument("answers", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "make":
        layers = [name.strip() for name in args.layers.split(",") if name.strip()]
        make(args.pictures, args.patches, args.trials, args.seed, args.side_seed, args.out, args.key, layers)
    else:
        key = {int(number): side for number, side in json.loads(args.key.read_text())["key"].items()}
        answers = [parse_answers(path.read_text()) for path in args.answers]
        for path, observer in zip(args.answers, answers):
            print(f"{path.name}: {score([observer], key)}")
        print(f"all observers: {score(answers, key)}")


if __name__ == "__main__":
    main()
