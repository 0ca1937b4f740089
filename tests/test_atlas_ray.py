"""`featviz atlas --ray`: shards as Ray tasks on a local Ray instance, merged into one atlas (tiny model)."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")

from featviz_core.atlas import open_atlas  # noqa: E402
from featviz_core.atlas.build import SHARDS_FOLDER  # noqa: E402
from test_atlas import atlas_cli  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def no_ray_running():
    assert not ray.is_initialized()
    yield
    if ray.is_initialized():
        ray.shutdown()


def test_two_ray_shards_make_one_atlas(capsys, tmp_path, no_ray_running):
    out = tmp_path / "atlas"
    subset = ["--layers", "block1_conv1,block2_conv1", "--filters", "0-3", "--batch", "2"]
    code, stdout, err = atlas_cli(capsys, out, *subset, "--ray", "--shards", "2")
    assert code == 0, err
    assert "shard 1/2 done: 4 filters rendered" in err and "shard 2/2 done: 4 filters rendered" in err
    assert "rendered 8 filters" in stdout
    assert not ray.is_initialized()  # the Ray it started is shut down
    atlas = open_atlas(out)
    assert set(atlas.entries) == {(layer, i) for layer in ("block1_conv1", "block2_conv1") for i in range(4)}
    assert all(entry.image().shape == (32, 32, 3) for entry in atlas.entries.values())
    assert atlas.settings["steps_per_octave"] == 2 and atlas.model == "tiny"
    assert not (out / SHARDS_FOLDER).exists()

    # Finished: a rerun does not even start Ray.
    code, stdout, err = atlas_cli(capsys, out, *subset, "--ray", "--shards", "2")
    assert code == 0, err
    assert "nothing left to do" in stdout and "shard" not in err
    assert not ray.is_initialized()
