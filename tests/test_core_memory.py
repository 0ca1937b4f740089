"""The ascent's memory savers: the lean convolution and ReLU gradients, the heap trimmed between renders, capped
arenas and a fixed mmap threshold (set by an explicit call, never on import)."""

from __future__ import annotations

import os

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from featviz_core import ascent, memory
from featviz_core.ascent import lean_gradients
from featviz_core.rendering import render
from featviz_core.ascent.lean_gradients import lean_input_gradients
from featviz_core.models import load_model
from featviz_core.settings import preset


@pytest.mark.parametrize("strides, padding, kernel", [(1, "same", 3), (1, "same", 5), (2, "same", 3),
                                                       (1, "valid", 3), (1, "same", 2)])
def test_lean_conv_gradient_matches_tensorflows(strides, padding, kernel):
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(5, kernel, strides=strides, padding=padding,
                               kernel_initializer=keras.initializers.HeNormal(seed=1))
    model = keras.Model(inputs, conv(inputs))
    images = tf.constant(np.random.default_rng(1).normal(size=(2, 17, 19, 3)), tf.float32)

    @tf.function
    def lean(x):
        with lean_input_gradients():
            return tf.gradients(tf.reduce_sum(model(x) ** 2), x)[0]

    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(model(images) ** 2)
    expected = tape.gradient(total, images).numpy()
    assert np.abs(lean(images).numpy() - expected).max() <= 1e-5 * np.abs(expected).max()
    built = {op.type for op in lean.get_concrete_function(images).graph.get_operations()}
    assert ("Conv2DBackpropInput" in built) == (strides != 1 or padding != "same" or kernel % 2 == 0)


def test_lean_relu_gradient_is_tensorflows_exactly():
    values = tf.constant(np.random.default_rng(2).normal(size=(2, 9, 7, 4)), tf.float32)
    weights = tf.constant(np.random.default_rng(3).normal(size=(2, 9, 7, 4)), tf.float32)

    @tf.function
    def lean(x):
        with lean_input_gradients():
            return tf.gradients(tf.reduce_sum(tf.nn.relu(x) * weights), x)[0]

    with tf.GradientTape() as tape:
        tape.watch(values)
        total = tf.reduce_sum(tf.nn.relu(values) * weights)
    np.testing.assert_array_equal(lean(values).numpy(), tape.gradient(total, values).numpy())
    built = {op.type for op in lean.get_concrete_function(values).graph.get_operations()}
    assert "ReluGrad" not in built and "Greater" in built


def test_the_ascent_step_uses_the_lean_gradients(tiny_model):
    step = ascent.ascent_step(tiny_model, "block2_conv2")
    graph = step.step.get_concrete_function().graph
    built = {op.type for op in graph.get_operations()}
    assert "Conv2D" in built and not built & {"Conv2DBackpropInput", "Conv2DBackpropFilter", "ReluGrad"}
    # The backward pass reads each hidden ReLU's output only through its one-byte mask (the last ReLU is
    # the layer's own output, which the objective reads).
    *hidden, _ = [op for op in graph.get_operations() if op.type == "Relu"]
    assert hidden
    for relu in hidden:
        readers = {consumer.type for consumer in relu.outputs[0].consumers()}
        assert "Greater" in readers and not readers & {"Mul", "Select", "SelectV2", "ReluGrad"}, readers


@pytest.mark.parametrize("preset_name, max_levels, mean_levels, loss_rtol", [
    ("classic", 1, 1, 1e-4),
    # Adam on an RMS-normalized gradient amplifies float rounding: a few pixels move, the picture stays.
    pytest.param("robust", 32, 2, 1e-2, marks=pytest.mark.slow),
])
def test_the_lean_gradient_draws_the_same_picture(monkeypatch, preset_name, max_levels, mean_levels, loss_rtol):
    settings = preset(preset_name, model="tiny", layer="block2_conv2", filter=3, final_size=96, steps_per_octave=4)
    lean = render(settings, load_model("tiny"))
    monkeypatch.setattr(lean_gradients, "LEAN_CONV2D", "Conv2D")  # TensorFlow's own gradient, for a fresh model
    standard = render(settings, load_model("tiny"))
    difference = np.abs(lean.image.astype(int) - standard.image)
    assert difference.max() <= max_levels and difference.mean() <= mean_levels, (difference.max(), difference.mean())
    np.testing.assert_allclose(lean.losses, standard.losses, rtol=loss_rtol)


TUNE = """
import sys
if sys.argv[1] != "plain":
    import featviz_core.cli  # noqa: F401  (the package, its memory module, the command: the allocator stays)
if sys.argv[1] == "tuned":
    featviz_core.memory.tune_heap()
"""

ARENA_PROBE = TUNE + """
import ctypes, threading
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    for _ in range(2000):
        libc.free(ctypes.c_void_p(libc.malloc(4096)))
threads = [threading.Thread(target=work) for _ in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
libc.malloc_stats()
"""


MMAP_PROBE = TUNE + """
import ctypes
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.mallinfo2.restype = MallInfo2
libc.free(ctypes.c_void_p(libc.malloc(20 << 20)))  # glibc's own rule now raises its threshold to 20 MB
before = libc.mallinfo2().hblks
block = libc.malloc(12 << 20)
print(libc.mallinfo2().hblks - before)  # 1 where the 12 MB block got a mapping of its own
"""


@pytest.mark.skipif(not hasattr(memory._libc(), "mallinfo2"), reason="glibc 2.33 or later only")
def test_tune_heap_keeps_large_blocks_in_their_own_mappings_and_importing_does_not():
    def mapped_blocks(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", MMAP_PROBE, mode], capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert mapped_blocks("plain") == mapped_blocks("imported") == 0 and mapped_blocks("tuned") == 1


@pytest.mark.skipif(memory._libc() is None, reason="glibc only")
def test_tune_heap_caps_the_heap_arenas_and_importing_does_not():
    def arenas(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", ARENA_PROBE, mode], capture_output=True, text=True, check=True)
        return done.stderr.count("Arena ")

    assert arenas("tuned") <= memory.HEAP_ARENAS < min(arenas("plain"), arenas("imported"))


def _resident_kb(path: str) -> int:
    """Resident kB of this process' mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        head = line.split()
        if "-" in head[0] and len(head) >= 5:
            inside = head[-1] == path
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="Linux only")
def test_paging_out_drops_read_only_file_pages_and_they_read_back(tmp_path):
    import mmap

    path = tmp_path / "code.bin"
    data = os.urandom(4 << 20)
    path.write_bytes(data)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert sum(mapped[index] for index in range(0, len(data), 4096)) >= 0  # touch every page
        assert _resident_kb(str(path)) >= 4000
        if memory.page_out_library_code() == 0:
            pytest.skip("this kernel refuses MADV_PAGEOUT (before Linux 5.4)")
        assert _resident_kb(str(path)) < 1000
        assert mapped[:4096] == data[:4096] and mapped[-4096:] == data[-4096:]  # read back on use
