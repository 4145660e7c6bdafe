"""The data the dev set is built from and checked against: where its tables are, how they stream, what a cell is.

One layer for `alops devset build` and `alops devset check`: both read a dataset
through it, so they agree on which files count, which rows are corrupt and which
columns hold numbers.
"""
