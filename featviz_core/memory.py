"""Process memory: giving freed heap and start-up code back to the OS (the figures themselves are measured by
`benchmarks/harness/procfs.py`).

TensorFlow frees a render's activations into glibc's heap, which keeps much of it mapped; trimming
the heap after a render brings the resident size back near its level before the render. Its many
threads would each get a heap ("arena") of their own; capping them at two lowers the peak (1,127 ->
1,047 MB over six VGG16 renders, same speed) without the MALLOC_ARENA_MAX variable a host may not set.
glibc also raises its mmap threshold as large blocks are freed (up to 32 MB), after which a render's
activations land in the heap, fragment it and stay resident. A fixed 8 MB threshold keeps the large
activations of the big octaves in mappings of their own, returned to the OS when freed, while smaller
blocks still reuse the heap (1 MB saved more but cost a page fault per page of every big tensor, about
a quarter more time). `python benchmarks/bench_memory.py --against REV` measures it.

Importing TensorFlow and building a model also reads about 420 MB of its libraries' code into memory
(mostly start-up code that registers every op), which stays resident though a render uses a sixth of
it. `page_out_library_code` asks the kernel to drop those clean file pages (Linux' MADV_PAGEOUT); the
few a render needs are read back from disk on first use.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path
from typing import Callable

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers
M_ARENA_MAX = -8
HEAP_ARENAS = 2
MMAP_THRESHOLD_BYTES = 8 << 20


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def tune_heap(arenas: int = HEAP_ARENAS, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> None:
    """Let glibc create at most `arenas` heaps for all threads from now on, and give every block of
    `mmap_threshold` bytes or more its own mapping; a no-op elsewhere.

    It changes the whole process' allocator, so nothing calls it on import: a program calls it once at
    its start, before TensorFlow starts its threads (the `featviz` command, the dashboard and the atlas'
    Ray workers do). Calling it again changes nothing more."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, arenas)
        libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)


MADV_PAGEOUT = 21  # Linux 5.4 and later


def page_out_library_code() -> int:
    """Drop this process' resident pages of read-only file mappings (shared libraries' code and data)
    from memory; the kernel reads any back on its next use, and keeps pages another process also maps.
    Returns how many mappings it was asked for; 0 where /proc or madvise is missing (not Linux, or a
    kernel before 5.4 refuses: a no-op). A program calls it after TensorFlow's start-up (the dashboard
    does after each model load: a server lives long, a command's few seconds gain nothing)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "madvise"):
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return 0
    asked = 0
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith("/") or "w" in fields[1]:
            continue  # anonymous memory, or a writable mapping whose pages may be dirty
        start, end = (int(value, 16) for value in fields[0].split("-"))
        if libc.madvise(start, end - start, MADV_PAGEOUT) != 0:
            return asked  # refused (an older kernel): nothing else will be accepted either
        asked += 1
    return asked


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    return getattr(_libc(), "malloc_trim", None)


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the OS (glibc `malloc_trim(0)`); a no-op elsewhere."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
