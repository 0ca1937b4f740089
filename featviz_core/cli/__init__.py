"""The `featviz` command line: list layers, render one filter, render a layer gallery, build and inspect an atlas,
find a layer's dataset examples, and dissect a photo. One module per group of commands; they share `common`."""

from __future__ import annotations

import os
import sys
from typing import Sequence

from featviz_core.cli.atlas_commands import command_atlas
from featviz_core.cli.common import CliError, parse_filter_range
from featviz_core.cli.native_logs import NATIVE_LOGS, mute_native_logs
from featviz_core.cli.parser import build_parser, with_default_atlas_command
from featviz_core.cli.photo_commands import command_dissect, command_examples
from featviz_core.cli.render_commands import command_gallery, command_layers, command_render
from featviz_core.memory import tune_heap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["NATIVE_LOGS", "CliError", "main", "mute_native_logs", "parse_filter_range", "run"]

USAGE_ERROR = 2
COMMANDS = {"layers": command_layers, "render": command_render, "gallery": command_gallery, "atlas": command_atlas,
            "examples": command_examples, "dissect": command_dissect}


def _is_usage_error(error: Exception) -> bool:
    """Bad input the user can fix: arguments, settings, files, models, atlases (all TensorFlow-free
    to import). Any other error is a bug and keeps its traceback."""
    from featviz_core.atlas import AtlasError
    from featviz_core.catalog import ModelLoadError
    from featviz_core.settings import SettingsError
    from featviz_core.ascent.start_images import BadImageError

    return isinstance(error, (CliError, SettingsError, BadImageError, AtlasError, ModelLoadError))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns 0 on success, 2 on bad input (with a one-line message), never a traceback."""
    parser = build_parser()
    args = parser.parse_args(with_default_atlas_command(sys.argv[1:] if argv is None else argv))  # exits 2 on bad syntax
    try:
        COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("\nfeatviz: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not _is_usage_error(error):
            raise
        print(f"featviz: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    return 0


def run() -> None:
    """The installed `featviz` command: glibc's heap tuned, native start-up logs filtered, then main()."""
    tune_heap()
    mute_native_logs()
    sys.exit(main())


if __name__ == "__main__":
    run()
