"""Legibility of filter pictures: what the network and people can read from them (issue 26).

`measures` holds the network's own yardsticks (specificity, distinctness, the picture against the best
photo patch), `photos` the natural photos they are measured on, `blind_test` the two-choice test for
people. `benchmarks/bench_legibility.py` runs them on recipes.
"""
