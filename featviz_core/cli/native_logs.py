"""TensorFlow's native start-up lines filtered out of file descriptor 2, everything else native code writes kept."""

from __future__ import annotations

import os
import re
import signal
import sys

NATIVE_LOGS = "FEATVIZ_NATIVE_LOGS"


NATIVE_NOISE = re.compile(  # TensorFlow's start-up lines, which TF_CPP_MIN_LOG_LEVEL=2 is meant to hide
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\] "  # absl's info and warning lines
    rb"|\d{4}-\d\d-\d\d [\d:.]+: [IW] \S+:\d+\] "  # the same before TensorFlow 2.16
    rb"|E\d{4} [^\]]*\] (failed call to cuInit|Unable to register cu\w+ factory)"  # no GPU, or a second registration
    rb"|To enable the following instructions: "  # cpu_feature_guard's second line
    rb"|TF-TRT Warning: Could not find TensorRT"
)


def _forward_native_logs(source: int) -> None:
    """Copy the lines read from `source` to file descriptor 2, without the start-up noise, until every writer
    has closed it."""
    with open(source, "rb") as lines, open(2, "wb", closefd=False) as terminal:
        for line in lines:
            if not NATIVE_NOISE.match(line):
                terminal.write(line)
                terminal.flush()


def mute_native_logs() -> None:
    """Drop TensorFlow's C++ start-up lines (TensorFlow 2.19+ writes them before it reads
    TF_CPP_MIN_LOG_LEVEL) and keep everything else native code writes to file descriptor 2: a crash,
    an out-of-memory message. Fd 2 becomes a pipe read by a forked process, which outlives a crash of
    this one; Python's own stderr (errors, progress) keeps the real terminal. Call it first, before any
    thread starts. FEATVIZ_NATIVE_LOGS=1 keeps every line."""
    if os.environ.get(NATIVE_LOGS) == "1" or not hasattr(os, "fork"):
        return
    sys.stderr.flush()
    source, sink = os.pipe()
    if os.fork() == 0:
        os.close(sink)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the command, which then closes the pipe
        try:
            _forward_native_logs(source)
        finally:
            os._exit(0)
    os.close(source)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    os.dup2(sink, 2)
    os.close(sink)
