"""Atlases: the format, `featviz atlas` (build, resume, shards, merge, info) and its errors, on the tiny model."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import featviz_core

from featviz_core.atlas import AtlasError, default_atlas_folders, find_atlases, merge, open_atlas
from featviz_core.atlas.format import iter_entries_json
from featviz_core.atlas.build import BuildProgress, build_atlas, build_atlas_ray, plan
from featviz_core.cli import main
from featviz_core.layers import LayerInfo
from featviz_core.settings import RenderSettings, preset
from test_cli import assert_usage_error, run_cli

TINY = ["--steps", "2", "--octaves", "2", "--size", "32"]  # robust preset, 4 steps at 16 and 22 px, then 32 px
TINY_OVERRIDES = dict(steps_per_octave=2, octaves=2, final_size=32)
TINY_LAYERS = {"block1_conv1": 8, "block1_conv2": 8, "block2_conv1": 16, "block2_conv2": 16}
ALL_KEYS = {(layer, index) for layer, count in TINY_LAYERS.items() for index in range(count)}
REPOSITORY = Path(__file__).resolve().parents[1]


def atlas_cli(capsys, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "atlas", "tiny", "-o", out, *TINY, *extra)


def cli_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "featviz_core.cli", "atlas", "tiny", "-o", str(out), *TINY, *extra]


def mean_abs_diff(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.abs(first.astype(np.float64) - second.astype(np.float64)).mean())


def webp_round_trip(image: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="WEBP", quality=88, method=6)
    return np.asarray(Image.open(buffer).convert("RGB"))


@pytest.fixture(scope="module")
def full_atlas(tmp_path_factory) -> Path:
    """Every filter of the tiny model, rendered in one run (4 filters per batch)."""
    out = tmp_path_factory.mktemp("atlases") / "tiny-full"
    assert main(["atlas", "tiny", "-o", str(out), *TINY, "--batch", "4"]) == 0
    return out


# --- the format ------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_atlas_holds_what_render_batch_gives(capsys, tmp_path, tiny_model):
    from featviz_core.rendering import render_batch
    from featviz_core.ascent.quality import QualityMeter

    out = tmp_path / "atlas"
    code, stdout, err = run_cli(capsys, "atlas", "tiny", "-o", out, "--steps", "2", "--octaves", "2", "--size", "80",
                                "--image-size", "64", "--layers", "block1_conv1,block2_conv1", "--filters", "0-3",
                                "--batch", "2")
    assert code == 0, err
    assert "rendered 8 filters" in stdout and "8/8 filters" in err and "/min" in err and "ETA" in err
    atlas = open_atlas(out)
    assert (atlas.model, atlas.preset, atlas.image_size, atlas.count) == ("tiny", "custom", 64, 8)
    assert atlas.model_description == tiny_model.description and atlas.featviz_version == featviz_core.__version__
    assert [(layer.name, layer.filters, layer.kind, layer.block) for layer in atlas.layers] == [
        (name, count, "Conv2D", name.split("_")[0]) for name, count in TINY_LAYERS.items()]  # Dense head left out
    assert atlas.layers == tuple(info for info in tiny_model.layers if info.kind != "Dense")  # the model's own records
    assert atlas.filters_of("block2_conv1") == [0, 1, 2, 3] and atlas.filters_of("block1_conv2") == []

    for layer in ("block1_conv1", "block2_conv1"):
        meter = QualityMeter(tiny_model, layer)
        for chunk in ([0, 1], [2, 3]):  # the atlas' batches
            settings = atlas.settings_for(layer, chunk[0])
            assert settings == preset("robust", model="tiny", layer=layer, filter=chunk[0], steps_per_octave=2,
                                      octaves=2, final_size=80)
            for result in render_batch(settings, chunk, tiny_model):
                entry = atlas.entry(layer, result.settings.filter)
                assert atlas.match(result.settings) is entry
                assert atlas.match(result.settings.with_changes(seed=1)) is None
                np.testing.assert_allclose(entry.losses, [float(f"{x:.5g}") for x in result.losses], rtol=1e-6)
                assert (entry.octave_starts, entry.octave_sizes) == (result.octave_starts, result.octave_sizes)
                assert entry.steps_run == result.steps_run == settings.total_steps == 6 and entry.dead == result.dead
                assert entry.final_activation == pytest.approx(result.final_activation, rel=1e-5)
                quality = meter.measure(result.image, result.settings.filter, ascent_dead=result.dead)
                assert (entry.act, entry.robust, entry.hf) == pytest.approx((quality.act, quality.robust, quality.hf),
                                                                            rel=1e-5, abs=1e-7)
                expected = np.asarray(Image.fromarray(result.image).resize((64, 64), Image.Resampling.LANCZOS))
                assert entry.image().shape == (64, 64, 3)
                assert mean_abs_diff(entry.image(), expected) < 20  # lossy WebP: colour noise suffers most
                assert mean_abs_diff(entry.image(), webp_round_trip(expected)) == 0  # exactly that picture, encoded
                assert entry.image_bytes()[8:12] == b"WEBP"
                assert entry.seconds > 0 and entry.device and entry.rendered_at.endswith("+00:00")

    # Readable without featviz: plain JSON and Pillow.
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    assert index["format"] == "featviz-atlas/1" and len(index["weights_sha256"]) == 64
    assert "model" not in index["settings"] and "start_photo" not in index["settings"]
    for layer, entries in index["entries"].items():
        for key, entry in entries.items():
            assert entry["image"] == f"{layer}/{int(key):04d}.webp"
            with Image.open(out / entry["image"]) as picture:
                assert (picture.format, picture.size) == ("WEBP", (64, 64))
            assert RenderSettings(**entry["settings"]) == atlas.settings_for(layer, int(key))
    assert not list(out.rglob("*.tmp-*"))


def test_weights_hash_changes_with_the_weights(tiny_model):
    from featviz_core.atlas.build import weights_sha256
    from featviz_core.models import load_model

    other = load_model("tiny")
    assert weights_sha256(other) == weights_sha256(tiny_model)
    kernel, bias = other.model.get_layer("block1_conv1").get_weights()
    other.model.get_layer("block1_conv1").set_weights([kernel, bias + 1])
    assert weights_sha256(other) != weights_sha256(tiny_model)


def test_plan_is_breadth_first_clipped_and_shards_split_it():
    layers = [LayerInfo(name, count, name.split("_")[0], "Conv2D") for name, count in TINY_LAYERS.items()] + [
        LayerInfo("predictions", 10, "classifier", "Dense")]
    units = plan("all", None, layers, batch=4)
    assert units[:5] == [("block1_conv1", [0, 1, 2, 3]), ("block1_conv2", [0, 1, 2, 3]), ("block2_conv1", [0, 1, 2, 3]),
                         ("block2_conv2", [0, 1, 2, 3]), ("block1_conv1", [4, 5, 6, 7])]
    assert {(layer, i) for layer, chunk in units for i in chunk} == ALL_KEYS  # no Dense head
    assert plan(["block1_conv1"], range(0, 128), layers, batch=64) == [("block1_conv1", list(range(8)))]
    for parts in (1, 2, 3, 7, 20):
        shards = [plan("all", range(12), layers, shard=(part, parts), batch=3) for part in range(1, parts + 1)]
        keys = [{(layer, i) for layer, chunk in shard for i in chunk} for shard in shards]
        assert set().union(*keys) == {key for key in ALL_KEYS if key[1] < 12}
        assert sum(map(len, keys)) == len(set().union(*keys))  # disjoint
        assert shards == [plan("all", range(12), layers, shard=(part, parts), batch=3) for part in range(1, parts + 1)]
    with pytest.raises(AtlasError, match="beyond every chosen layer"):
        plan(["block1_conv1"], [8, 9], layers)
    with pytest.raises(AtlasError, match="'nope' is not a conv layer"):
        plan(["nope"], None, layers)
    with pytest.raises(AtlasError, match="--shard must look like K/N"):
        plan("all", None, layers, shard=(3, 2))


# --- resume ----------------------------------------------------------------------------------

def _entries(out: Path) -> dict[tuple[str, int], dict]:
    try:
        index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {(layer, int(key)): entry for layer, entries in index["entries"].items() for key, entry in entries.items()}


def _start_and_stop(out: Path, sig: int, at_least: int) -> tuple[int, str]:
    """Start `featviz atlas` in a subprocess and send `sig` once its index lists some, not all, filters;
    return its exit code and stderr."""
    log = out.with_name(f"{out.name}-{sig}.log")
    with open(log, "w") as stderr:
        # SIGINT as a terminal gives it: a shell's background job (`cmd &`) starts with SIGINT ignored, and
        # Python then installs no KeyboardInterrupt handler, so Ctrl-C would not reach featviz at all.
        process = subprocess.Popen(cli_command(out, "--batch", "1"), stdout=subprocess.DEVNULL, stderr=stderr,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if at_least <= len(_entries(out)) < len(ALL_KEYS) - 4:
                process.send_signal(sig)
                break
            time.sleep(0.02)
        process.wait(timeout=120)
    return process.returncode, log.read_text()


@pytest.mark.slow
def test_an_interrupted_atlas_resumes_where_it_stopped(capsys, tmp_path, full_atlas):
    out = tmp_path / "atlas"
    code, err = _start_and_stop(out, signal.SIGINT, at_least=1)  # Ctrl-C
    assert code == 130, err
    assert err.rstrip().endswith("featviz: interrupted") and "Traceback" not in err
    after_ctrl_c = _entries(out)
    code, err = _start_and_stop(out, signal.SIGKILL, at_least=len(after_ctrl_c) + 1)  # resumes, then dies hard
    assert code == -signal.SIGKILL, err
    before = _entries(out)
    assert set(after_ctrl_c) < set(before) < ALL_KEYS
    assert all(before[key] == entry for key, entry in after_ctrl_c.items())  # nothing rendered twice

    code, stdout, err = atlas_cli(capsys, out, "--batch", "1")
    assert code == 0, err
    assert f"rendered {len(ALL_KEYS) - len(before)} filters" in stdout and f"skipped {len(before)} already" in stdout
    final = _entries(out)
    assert set(final) == set(_entries(full_atlas)) == ALL_KEYS
    assert all(final[key] == entry for key, entry in before.items())
    assert open_atlas(out).count == len(ALL_KEYS)
    assert not list(out.rglob("*.tmp-*"))


def test_a_finished_atlas_reruns_without_tensorflow(full_atlas):
    script = textwrap.dedent(f"""
        import sys
        from featviz_core.cli import main
        from featviz_core.atlas import find_atlases, open_atlas
        code = main(["atlas", "tiny", "-o", {str(full_atlas)!r}, *{TINY!r}, "--batch", "4"])
        atlas = open_atlas({str(full_atlas)!r})
        assert atlas.entry("block2_conv2", 15).image().shape == (32, 32, 3)
        assert find_atlases([{str(full_atlas.parent)!r}])[0][0].root == atlas.root
        heavy = [name for name in ("tensorflow", "keras", "featviz_core.models", "featviz_core.ascent",
                                   "featviz_core.ascent.quality") if name in sys.modules]
        assert not heavy, heavy
        sys.exit(code)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "nothing left to do" in done.stdout and f"all {len(ALL_KEYS)} requested" in done.stdout


def test_a_missing_picture_is_reported_and_rendered_again(capsys, tmp_path, full_atlas):
    out = tmp_path / "copy"
    shutil.copytree(full_atlas, out)
    (out / "block2_conv1" / "0005.webp").unlink()
    code, _, err = run_cli(capsys, "atlas", "info", out)
    assert_usage_error(code, err, "block2_conv1/0005.webp", "missing")
    code, stdout, err = atlas_cli(capsys, out, "--batch", "4")
    assert code == 0, err
    assert "rendered 1 filters" in stdout
    assert open_atlas(out).entry("block2_conv1", 5).image_path.is_file()


# --- shards, merge, info, finding ------------------------------------------------------------

@pytest.mark.slow
def test_two_shards_merged_equal_one_run(capsys, tmp_path):
    subset = ["--layers", "block1_conv1,block2_conv1", "--filters", "0-5", "--batch", "1"]
    for part in (1, 2):
        code, _, err = atlas_cli(capsys, tmp_path / f"part{part}", *subset, "--shard", f"{part}/2")
        assert code == 0, err
    code, _, err = atlas_cli(capsys, tmp_path / "whole", *subset)
    assert code == 0, err
    first, second, whole = (open_atlas(tmp_path / name) for name in ("part1", "part2", "whole"))
    assert first.count and second.count and not set(first.entries) & set(second.entries)

    code, stdout, err = run_cli(capsys, "atlas", "merge", tmp_path / "merged", tmp_path / "part1", tmp_path / "part2")
    assert code == 0, err
    merged = open_atlas(tmp_path / "merged")
    assert "12 filters" in stdout
    assert set(merged.entries) == set(whole.entries) == {(layer, i) for layer in ("block1_conv1", "block2_conv1")
                                                         for i in range(6)}
    assert (merged.settings, merged.weights_sha256, merged.layers) == (whole.settings, whole.weights_sha256, whole.layers)
    for key, entry in whole.entries.items():
        assert mean_abs_diff(merged.entries[key].image(), entry.image()) <= 2
        assert merged.entries[key].losses == entry.losses

    # Merging into one of the sources extends it.
    assert merge(tmp_path / "part1", [tmp_path / "part1", tmp_path / "part2"]).count == 12
    assert open_atlas(tmp_path / "part1").count == 12


def test_atlas_info_lists_every_layer(capsys, full_atlas):
    code, stdout, err = run_cli(capsys, "atlas", "info", full_atlas)
    assert code == 0, err
    lines = stdout.splitlines()
    assert "atlas of tiny, preset custom, 32 px webp" in lines[0]
    assert f"{len(ALL_KEYS)} of {len(ALL_KEYS)} filters rendered" in lines[1] and f"featviz {featviz_core.__version__}" in lines[1]
    for line, (name, count) in zip(lines[2:], TINY_LAYERS.items()):
        assert line.split()[:3] == [name, f"{count}/{count}", "rendered"]
    assert len(lines) == 2 + len(TINY_LAYERS)


def test_find_atlases_reports_broken_ones(tmp_path, full_atlas, monkeypatch):
    shutil.copytree(full_atlas, tmp_path / "good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "index.json").write_text("{")
    (tmp_path / "not-an-atlas").mkdir()
    monkeypatch.setenv("FEATVIZ_ATLAS", os.pathsep.join([str(tmp_path), str(tmp_path / "missing")]))
    folders = default_atlas_folders()
    assert folders[0] == Path(__file__).resolve().parents[1] / "atlas"  # the shipped atlases come first
    assert folders[-2:] == [tmp_path, tmp_path / "missing"]
    atlases, problems = find_atlases(folders)
    assert [atlas.root.name for atlas in atlases if atlas.root.parent == tmp_path] == ["good"]
    assert len(problems) == 2
    assert any("broken" in problem and "damaged" in problem for problem in problems)
    assert any("missing" in problem and "no such folder" in problem for problem in problems)


def test_progress_reports_throughput_and_time_left():
    event = BuildProgress(done=10, total=40, elapsed=30.0, layer="block1_conv1", filters=(10, 11), step=3,
                          total_steps=4)
    assert event.per_minute == pytest.approx(20.0) and event.eta_seconds == pytest.approx(90.0)
    assert BuildProgress(0, 40, 5.0, "block1_conv1", (0,), 1, 4).eta_seconds is None


# --- errors: one line, exit 2 ----------------------------------------------------------------

def test_a_damaged_or_foreign_folder(capsys, tmp_path, full_atlas):
    damaged = tmp_path / "damaged"
    shutil.copytree(full_atlas, damaged)
    text = (damaged / "index.json").read_text()
    (damaged / "index.json").write_text(text[: len(text) // 2])
    for argv in (["atlas", "info", damaged], ["atlas", "tiny", "-o", damaged, *TINY]):
        code, _, err = run_cli(capsys, *argv)
        assert_usage_error(code, err, str(damaged), "damaged")

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "index.json").write_text(json.dumps({"name": "my web site"}))
    for argv in (["atlas", "info", foreign], ["atlas", "tiny", "-o", foreign, *TINY]):
        code, _, err = run_cli(capsys, *argv)
        assert_usage_error(code, err, "not a featviz atlas")

    files = tmp_path / "files"
    files.mkdir()
    (files / "notes.txt").write_text("hello")
    code, _, err = run_cli(capsys, "atlas", "info", files)
    assert_usage_error(code, err, "not a featviz atlas", "no index.json")
    code, _, err = atlas_cli(capsys, files)
    assert_usage_error(code, err, "not a featviz atlas", "notes.txt")
    assert sorted(path.name for path in files.iterdir()) == ["notes.txt"]
    code, _, err = run_cli(capsys, "atlas", "info", tmp_path / "nowhere")
    assert_usage_error(code, err, "no such folder")


def test_resume_with_other_settings_is_refused(capsys, tmp_path, full_atlas):
    before = (full_atlas / "index.json").read_bytes()
    code, _, err = run_cli(capsys, "atlas", "tiny", "-o", full_atlas, "--steps", "3", "--octaves", "2", "--size", "32")
    assert_usage_error(code, err, str(full_atlas), "holds an atlas of tiny", "steps_per_octave 2 vs 3",
                       "use another -o folder or the same settings")
    code, _, err = run_cli(capsys, "atlas", "other.keras", "-o", full_atlas, *TINY)
    assert_usage_error(code, err, "model differs")
    assert (full_atlas / "index.json").read_bytes() == before


def test_merging_atlases_of_other_settings_is_refused(capsys, tmp_path, full_atlas):
    other = tmp_path / "other"
    code, _, err = run_cli(capsys, "atlas", "tiny", "-o", other, "--steps", "3", "--octaves", "2", "--size", "32",
                           "--layers", "block1_conv1", "--filters", "0")
    assert code == 0, err
    code, _, err = run_cli(capsys, "atlas", "merge", tmp_path / "merged", full_atlas, other)
    assert_usage_error(code, err, "cannot merge", "steps_per_octave 2 vs 3")
    assert not (tmp_path / "merged" / "index.json").exists()


@pytest.mark.parametrize("extra, fragments", [
    (["--shard", "0/2"], ["--shard must look like K/N with 1 <= K <= N"]),
    (["--shard", "3/2"], ["--shard must look like K/N"]),
    (["--shard", "a/b"], ["--shard must look like K/N"]),
    (["--shard", "2"], ["--shard must look like K/N"]),
    (["--layers", "block1_conv1,nope"], ["'nope' is not a conv layer", "block2_conv2"]),
    (["--layers", "predictions"], ["'predictions' is not a conv layer"]),
    (["--filters", "100-200"], ["no filters to render"]),
    (["--filters", "9-1"], ["--filters must look like"]),
    (["--image-size", "33"], ["image size must be between 32 and 32"]),
    (["--steps", "0"], ["steps_per_octave"]),
    (["--batch", "0"], ["--batch must be at least 1"]),
    (["--shards", "2"], ["--shards needs --ray"]),
    (["--shard", "1/2", "--ray"], ["--shard and --ray"]),
    (["--start", "photo"], ["start photos are not allowed"]),
])
def test_bad_atlas_requests(capsys, tmp_path, extra, fragments):
    code, _, err = atlas_cli(capsys, tmp_path / "atlas", *extra)
    assert_usage_error(code, err, *fragments)
    assert not (tmp_path / "atlas" / "index.json").exists()


def test_ray_without_the_extra_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    code, _, err = atlas_cli(capsys, tmp_path / "atlas", "--ray")
    assert_usage_error(code, err, "--ray needs the optional extra: pip install 'featviz[ray]'")
    with pytest.raises(AtlasError, match="featviz\\[ray\\]"):
        build_atlas_ray(tmp_path / "atlas", "tiny", overrides=TINY_OVERRIDES)


def test_atlas_is_short_for_atlas_build(capsys, tmp_path):
    code, stdout, err = run_cli(capsys, "atlas", "build", "tiny", "-o", tmp_path / "a", *TINY, "--layers",
                                "block1_conv1", "--filters", "0")
    assert code == 0, err
    assert "rendered 1 filters" in stdout
    summary = build_atlas(tmp_path / "a", "tiny", layers=["block1_conv1"], filters=[0], overrides=TINY_OVERRIDES)
    assert (summary.rendered, summary.skipped, summary.count) == (0, 1, 1)
    with pytest.raises(SystemExit):
        main(["atlas"])
    assert "build" in capsys.readouterr().err


# --- atlases of featviz 0.3 (raw_input instead of preprocessing) -----------------------------------

def test_an_atlas_with_the_legacy_raw_input_still_matches_and_resumes(capsys, tmp_path, full_atlas):
    legacy = tmp_path / "legacy"
    shutil.copytree(full_atlas, legacy)
    text = (legacy / "index.json").read_text(encoding="utf-8")
    assert text.count('"preprocessing": "model"') > 1
    (legacy / "index.json").write_text(text.replace('"preprocessing": "model"', '"raw_input": false'), encoding="utf-8")
    atlas = open_atlas(legacy)
    assert atlas.settings["preprocessing"] == "model" and "raw_input" not in atlas.settings
    settings = preset("robust", model="tiny", layer="block2_conv1", filter=3, **TINY_OVERRIDES)
    assert atlas.match(settings) is atlas.entry("block2_conv1", 3)
    assert atlas.match(settings.with_changes(preprocessing="raw")) is None
    code, out, err = atlas_cli(capsys, legacy)  # resuming compares the legacy index with today's settings
    assert code == 0, err
    assert "nothing left to do" in out
    raw = json.loads(text.replace('"preprocessing": "model"', '"raw_input": true'))
    (legacy / "index.json").write_text(json.dumps(raw), encoding="utf-8")
    assert open_atlas(legacy).settings["preprocessing"] == "raw"


SHIPPED_ATLASES = sorted(path.parent for path in (REPOSITORY / "atlas").glob("*/index.json"))


@pytest.mark.parametrize("folder", SHIPPED_ATLASES, ids=lambda folder: folder.name)
def test_a_shipped_atlas_matches_the_default_preset(folder: Path):
    from featviz_core.settings import DEFAULT_PRESET

    atlas = open_atlas(folder)
    assert "raw_input" not in atlas.settings and atlas.preset == DEFAULT_PRESET
    (layer, index), entry = atlas.items[0]
    assert atlas.match(preset(DEFAULT_PRESET, model="vgg16-offline", layer=layer, filter=index)) is entry


@pytest.mark.parametrize("folder", SHIPPED_ATLASES, ids=lambda folder: folder.name)
def test_a_shipped_atlas_lists_only_pictures_it_holds(folder: Path):
    """Each listed picture exists beside its index at the index' size (CI runs this on a fresh clone)."""
    atlas = open_atlas(folder)
    for (layer, index), entry in atlas.items:
        assert entry.image_path.parent.parent == folder, (layer, index)
        with Image.open(entry.image_path) as picture:
            assert picture.size == (atlas.image_size, atlas.image_size), (layer, index)


def _git(*arguments: str) -> str | None:
    done = subprocess.run(["git", *arguments], cwd=REPOSITORY, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


@pytest.mark.parametrize("folder", SHIPPED_ATLASES, ids=lambda folder: folder.name)
def test_a_committed_atlas_index_lists_only_committed_pictures(folder: Path):
    """The last commit's index lists only pictures in that commit, whatever a render adds to the working tree."""
    relative = folder.relative_to(REPOSITORY).as_posix()
    committed_index = _git("show", f"HEAD:{relative}/index.json")
    if committed_index is None:
        pytest.skip("not a git checkout, or this atlas is not committed yet")
    committed_files = set(_git("ls-tree", "-r", "--name-only", "HEAD", "--", relative).splitlines())
    listed = [f"{relative}/{data['image']}" for _, _, data in iter_entries_json(json.loads(committed_index))]
    missing = [path for path in listed if path not in committed_files]
    assert not missing, f"{len(missing)} of {len(listed)} listed pictures are not committed, e.g. {missing[:3]}"


def test_the_shipped_atlases_hold_every_filter_of_the_photo_pages_layers():
    """The photo page's two layers have a picture for each of their 512 filters, none a stand-in."""
    from featviz_core.atlas import atlases_by_model, find_atlases

    found, problems = find_atlases([REPOSITORY / "atlas"])
    assert problems == []
    atlases = atlases_by_model(found)["vgg16-offline"]
    for layer in ("block4_conv3", "block5_conv3"):
        assert atlases.filters_of(layer) == list(range(512)), layer
