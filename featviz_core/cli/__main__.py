"""`python -m featviz_core.cli`: the `featviz` command."""

from featviz_core.cli import run

run()
