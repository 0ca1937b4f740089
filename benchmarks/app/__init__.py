"""The scenarios of `benchmarks/bench_app.py`, one module each, run in this order:

- `atlas`: a just-started server, the first picture, then browsing the atlas (its own server).
- `live`: the default view rendered live, then 8 quick and 4 robust views, each in a new session.
- `crowd`: five sessions at once on filters missing from the atlas: times and every wait message seen.
- `scrub`: the scrubber's new step (slider, then a click on the loss curve) right after a small live render.
- `measure`: "Robust?" under the default view's live picture.
- `cli`: `featviz atlas` on 2 layers x 8 filters, then the same again on the finished atlas.

Each has `run(...)`; `live`, `crowd`, `scrub` and `measure` share one watched `common.Server`. `common`
holds that server and the figures the scenarios fill in for the summary table (`NOW`).
"""
