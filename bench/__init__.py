"""Benchmark commands: the data generator and the measurements of spec section 5.

Run from the project root with the project's virtualenv, e.g.
`python -m bench.generate --database-url sqlite:///bench/out/bench.sqlite --reset`.
Figures and the exact commands are kept in bench/RESULTS.md.
"""
