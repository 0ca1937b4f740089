"""The `featviz` command line, run in-process with `featviz_core.cli.main` (plus one real subprocess)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from featviz_core.cli import NATIVE_LOGS, CliError, main, parse_filter_range

TINY_SIZES = ["--steps", "2", "--octaves", "2", "--size", "32", "--final-steps", "0"]  # 4 steps at 22 and 26 px, then 32 px


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_usage_error(code: int, err: str, *fragments: str) -> str:
    """Exit 2, exactly one `featviz: error:` line (the last one on stderr), no traceback."""
    assert code == 2
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("featviz: error:")]
    assert len(errors) == 1, err
    assert err.rstrip("\n").splitlines()[-1] == errors[0]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# --- working commands ------------------------------------------------------------------------

def test_layers_lists_the_tiny_model(capsys):
    code, out, err = run_cli(capsys, "layers", "tiny")
    assert code == 0
    assert out.splitlines()[0].startswith("tiny: ")
    listed = re.findall(r"^(\S+)\s+(\d+) filters\s+\((\w+)\)$", out, flags=re.MULTILINE)
    assert listed == [("block1_conv1", "8", "Conv2D"), ("block1_conv2", "8", "Conv2D"),
                      ("block2_conv1", "16", "Conv2D"), ("block2_conv2", "16", "Conv2D"),
                      ("predictions", "10", "Dense")]


def test_render_takes_final_steps_at_the_shown_size(capsys, tmp_path):
    png = tmp_path / "x.png"
    code, out, err = run_cli(capsys, "render", "tiny", "block2_conv1", "3", "-o", png, "--steps", "2", "--octaves", "2",
                             "--size", "32", "--final-steps", "3", "--no-size-scaled-steps")
    assert code == 0, err
    assert "7 steps" in out and Image.open(png).size == (32, 32)


def test_render_writes_a_png_and_a_gif(capsys, tmp_path):
    png, gif = tmp_path / "x.png", tmp_path / "x.gif"
    code, out, err = run_cli(capsys, "render", "tiny", "block2_conv1", "3", "-o", png, "--gif", gif, *TINY_SIZES)
    assert code == 0, err
    image = Image.open(png)
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (32, 32))
    animation = Image.open(gif)
    assert animation.format == "GIF"
    assert animation.n_frames == 5  # the start image and one frame per step
    assert f"wrote {png}" in out and "4 steps" in out
    assert "4/4" in err  # the progress bar reached the end


def test_render_with_a_photo_start(capsys, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((30, 50, 3)) * 255).astype(np.uint8)).save(photo)
    out_png = tmp_path / "out.png"
    code, out, err = run_cli(capsys, "render", "tiny", "block1_conv2", "1", "-o", out_png, "--start", "photo",
                             "--photo", photo, *TINY_SIZES)
    assert code == 0, err
    assert Image.open(out_png).size == (32, 32)


# Filters of the tiny model's block2_conv1 that fire clearly (final activation 0.027-0.67 in float32 and bfloat16 alike),
# so that no count depends on a borderline filter: filter 2 ends at 0.0 in float32 and 0.0004 in bfloat16.
CLEARLY_ALIVE = "1,5,7,9,10,11,13,0"


def test_gallery_writes_a_collage(capsys, tmp_path):
    out_png = tmp_path / "g.png"
    code, out, err = run_cli(capsys, "gallery", "tiny", "block2_conv1", "--filters", CLEARLY_ALIVE, "-o", out_png,
                             "--batch", "4", *TINY_SIZES)
    assert code == 0, err
    assert "8 filters" in out
    sheet = Image.open(out_png)
    # 8 tiles of 32 px: 3 x 3 grid with 5 px margins
    assert sheet.format == "PNG" and sheet.size == (3 * 32 + 2 * 5, 3 * 32 + 2 * 5)


@pytest.fixture(scope="module")
def dead_model_file(tmp_path_factory) -> Path:
    """A .keras model whose conv_a filter 0 can never fire (bias -1e4) and filter 1 always does."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv_a")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv_a").set_weights([np.full((3, 3, 3, 2), 0.01, np.float32), np.array([-1e4, 1.0], np.float32)])
    path = tmp_path_factory.mktemp("models") / "dead.keras"
    model.save(path)
    return path


def test_gallery_reports_dead_filters(capsys, tmp_path, dead_model_file):
    out_png = tmp_path / "g.png"
    code, out, err = run_cli(capsys, "gallery", dead_model_file, "conv_a", "--filters", "0-1", "-o", out_png,
                             "--preset", "classic", *TINY_SIZES)
    assert code == 0, err
    assert "1 filters" in out and "dead filters (left out): [0]" in out
    assert Image.open(out_png).size == (32, 32)


def test_gallery_of_only_dead_filters_is_an_error(capsys, tmp_path, dead_model_file):
    code, out, err = run_cli(capsys, "gallery", dead_model_file, "conv_a", "--filters", "0", "-o",
                             tmp_path / "g.png", "--preset", "classic", *TINY_SIZES)
    assert_usage_error(code, err, "dead")
    assert not (tmp_path / "g.png").exists()


def test_render_of_a_dead_filter_says_so(capsys, tmp_path, dead_model_file):
    code, out, err = run_cli(capsys, "render", dead_model_file, "conv_a", "0", "-o", tmp_path / "d.png",
                             "--preset", "classic", *TINY_SIZES)
    assert code == 0, err
    assert "dead" in out
    assert (tmp_path / "d.png").is_file()


@pytest.mark.parametrize("text, expected", [("3", [3]), ("1,5,9", [1, 5, 9]), ("0-3,10", [0, 1, 2, 3, 10]),
                                            (" 2 - 4 ", [2, 3, 4])])
def test_parse_filter_range(text, expected):
    assert parse_filter_range(text) == expected


@pytest.mark.parametrize("text", ["", "a-b", "5-3", "-1", "1,,2", "1-2-3"])
def test_parse_filter_range_rejects(text):
    with pytest.raises(CliError, match="--filters must look like"):
        parse_filter_range(text)


def test_parse_filter_range_rejects_an_open_range():
    with pytest.raises(CliError, match="--filters must look like"):
        parse_filter_range("0-")


# --- usage errors: exit 2, one line, no traceback --------------------------------------------

def test_unknown_layer(capsys, tmp_path):
    code, _, err = run_cli(capsys, "render", "tiny", "block9_conv1", "0", "-o", tmp_path / "x.png", *TINY_SIZES)
    assert_usage_error(code, err, "block9_conv1", "block1_conv1")
    code, _, err = run_cli(capsys, "gallery", "tiny", "nope", "-o", tmp_path / "x.png", *TINY_SIZES)
    assert_usage_error(code, err, "'nope'")


def test_filter_out_of_range(capsys, tmp_path):
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "16", "-o", tmp_path / "x.png", *TINY_SIZES)
    assert_usage_error(code, err, "filter", "0 and 15", "block2_conv1")
    code, _, err = run_cli(capsys, "gallery", "tiny", "block1_conv1", "--filters", "0-8", "-o", tmp_path / "x.png",
                           *TINY_SIZES)
    assert_usage_error(code, err, "0 and 7", "got 8")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("text", ["abc", "7-2", "1;2"])
def test_bad_filters_text(capsys, tmp_path, text):
    code, _, err = run_cli(capsys, "gallery", "tiny", "block2_conv1", "--filters", text, "-o", tmp_path / "g.png",
                           *TINY_SIZES)
    assert_usage_error(code, err, "--filters", repr(text))


def test_unknown_model(capsys, tmp_path):
    code, _, err = run_cli(capsys, "layers", "resnet9000")
    assert_usage_error(code, err, "resnet9000", ".keras")
    code, _, err = run_cli(capsys, "render", "resnet9000", "conv1", "0", "-o", tmp_path / "x.png", *TINY_SIZES)
    assert_usage_error(code, err, "resnet9000")
    code, _, err = run_cli(capsys, "layers", str(tmp_path / "missing.keras"))
    assert_usage_error(code, err, "not found")


def test_photo_start_without_a_photo(capsys, tmp_path):
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", tmp_path / "x.png",
                           "--start", "photo", *TINY_SIZES)
    assert_usage_error(code, err, "--start photo needs --photo")


def test_unreadable_photo_file(capsys, tmp_path):
    missing = tmp_path / "no_such_photo.jpg"
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", tmp_path / "x.png",
                           "--start", "photo", "--photo", missing, *TINY_SIZES)
    assert_usage_error(code, err, "cannot read", str(missing))


def test_photo_that_is_not_an_image(capsys, tmp_path):
    junk = tmp_path / "notes.png"
    junk.write_text("these are not pixels")
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", tmp_path / "x.png",
                           "--start", "photo", "--photo", junk, *TINY_SIZES)
    assert_usage_error(code, err, "not an image")
    code, _, err = run_cli(capsys, "gallery", "tiny", "block2_conv1", "--filters", "0-1", "-o", tmp_path / "g.png",
                           "--start", "photo", "--photo", junk, *TINY_SIZES)
    assert_usage_error(code, err, "not an image")


def test_unwritable_output_path(capsys, tmp_path):
    target = tmp_path / "no_such_dir" / "x.png"
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", target, *TINY_SIZES)
    assert_usage_error(code, err, "cannot write", str(target))
    code, _, err = run_cli(capsys, "gallery", "tiny", "block2_conv1", "--filters", "0-1", "-o", tmp_path,
                           *TINY_SIZES)  # a directory
    assert_usage_error(code, err, "cannot write")


def test_unwritable_gif_path(capsys, tmp_path):
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", tmp_path / "x.png",
                           "--gif", tmp_path / "nope" / "x.gif", *TINY_SIZES)
    assert_usage_error(code, err, "cannot write")


@pytest.mark.parametrize("option, value, field", [("--steps", "0", "steps_per_octave"), ("--octaves", "25", "octaves"),
                                                  ("--size", "9999", "final_size"), ("--upscale", "nan", "upscale_factor"),
                                                  ("--step-size", "-1", "step_size"), ("--seed", "-3", "seed")])
def test_invalid_numbers(capsys, tmp_path, option, value, field):
    args = dict(zip(TINY_SIZES[::2], TINY_SIZES[1::2]))
    args[option] = value
    flat = [item for pair in args.items() for item in pair]
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "0", "-o", tmp_path / "x.png", *flat)
    assert_usage_error(code, err, field)
    assert not (tmp_path / "x.png").exists()


def test_objective_and_variants_from_the_command_line(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "render", "tiny", "block2_conv1", "3", "-o", tmp_path / "v.png", *TINY_SIZES,
                           "--objective", "channel - 0.5*tv + 0.5*diversity", "--variants", "2")
    assert code == 0 and "wrote" in out
    assert Image.open(tmp_path / "v.png").width > 32  # both variants, side by side


@pytest.mark.parametrize("objective, named", [("channel - 0.5*tvv", "unknown term 'tvv'"),
                                               ("channel +", "ends with '+'"),
                                               ("channel + 0.5*diversity", "variants must be 2 or more")])
def test_a_bad_objective_is_one_line_naming_the_bad_term(capsys, tmp_path, objective, named):
    code, _, err = run_cli(capsys, "render", "tiny", "block2_conv1", "3", "-o", tmp_path / "x.png", *TINY_SIZES,
                           "--objective", objective)
    assert_usage_error(code, err, named)


def test_a_bug_is_not_reported_as_a_usage_error(capsys, monkeypatch, tmp_path):
    """Only settings and input errors are the user's: an internal ValueError keeps its traceback."""
    from featviz_core import rendering

    def broken(*args, **kwargs):
        raise ValueError("an internal bug")

    monkeypatch.setattr(rendering, "render_batch", broken)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["render", "tiny", "block2_conv1", "3", "-o", str(tmp_path / "x.png"), *TINY_SIZES])
    assert "featviz: error" not in capsys.readouterr().err


def test_render_without_a_preset_uses_the_dashboards_default(capsys, monkeypatch, tmp_path):
    from featviz_core import rendering
    from featviz_core.settings import DEFAULT_PRESET, matching_preset

    seen = []
    monkeypatch.setattr(rendering, "render_batch", lambda settings, *args, **kwargs: seen.append(settings) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["render", "tiny", "block2_conv1", "3", "-o", str(tmp_path / "x.png")])
    assert matching_preset(seen[0]) == DEFAULT_PRESET


def test_batch_below_one(capsys, tmp_path):
    code, _, err = run_cli(capsys, "gallery", "tiny", "block2_conv1", "--batch", "0", "-o", tmp_path / "g.png",
                           *TINY_SIZES)
    assert_usage_error(code, err, "--batch")


@pytest.mark.parametrize("argv", [
    [],
    ["render", "tiny"],
    ["render", "tiny", "block2_conv1", "3"],  # no -o
    ["render", "tiny", "block2_conv1", "three", "-o", "x.png"],
    ["gallery", "tiny"],
    ["layers"],
    ["render", "tiny", "block2_conv1", "3", "-o", "x.png", "--preset", "fancy"],
    ["render", "tiny", "block2_conv1", "3", "-o", "x.png", "--start", "plasma"],
    ["paint", "tiny"],
])
def test_argparse_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "usage: featviz" in err and "Traceback" not in err


@pytest.mark.slow
def test_the_installed_featviz_command_runs():
    executable = shutil.which("featviz") or str(Path(sys.executable).parent / "featviz")
    assert Path(executable).exists(), "the featviz entry point is not installed (pip install -e .)"
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", NATIVE_LOGS)}
    done = subprocess.run([executable, "layers", "tiny"], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    assert "block2_conv2" in done.stdout and "16 filters" in done.stdout
    assert "absl" not in done.stderr and "cuda" not in done.stderr.lower(), done.stderr  # TensorFlow's C++ logs muted


NATIVE_PROBE = """
import os, sys
from featviz_core.cli import mute_native_logs
mute_native_logs()
for line in sys.argv[1:]:
    os.write(2, line.encode() + b"\\n")  # as TensorFlow's C++ code writes: straight to file descriptor 2
print("from Python", file=sys.stderr)
os.abort()  # a native crash: the lines written before it still arrive
"""


def test_native_stderr_loses_only_tensorflows_start_up_lines():
    noise = ["WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
             "I0000 00:00:1796482320.730839   26853 port.cc:153] oneDNN custom operations are on.",
             "I0000 00:00:1796482320.731144   26853 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
             "E0000 00:00:1796482323.600622   26853 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
             "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow."]
    kept = ["boom", "E0000 00:00:1796482323.6 26853 bfc_allocator.cc:485] Allocator (cpu) ran out of memory",
            "terminate called after throwing an instance of 'std::bad_alloc'"]
    env = {key: value for key, value in os.environ.items() if key != NATIVE_LOGS}
    done = subprocess.run([sys.executable, "-c", NATIVE_PROBE, *noise, *kept], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == -6  # SIGABRT
    assert sorted(done.stderr.splitlines()) == sorted([*kept, "from Python"]), done.stderr


@pytest.mark.slow
def test_the_installed_command_still_prints_its_errors():
    executable = shutil.which("featviz") or str(Path(sys.executable).parent / "featviz")
    done = subprocess.run([executable, "layers", "no-such-model"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("featviz: error:") and len(done.stderr.strip().splitlines()) == 1, done.stderr
