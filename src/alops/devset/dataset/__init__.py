"""The data the dev set is built from and checked against: where its tables are, how they stream, what a cell is.

One layer for `alops devset build` and `alops devset check`: both read a dataset
through it, so they agree on which files count, which rows are corrupt and which
columns hold numbers.

* :mod:`.locate`: a table, a folder of tables, or files with a manifest, its tables opened.
* :mod:`.columns`: which columns hold numbers, from a sample spread over the data.
* :mod:`.blocks`: every row as typed blocks with their corrupt rows (what the check counts).
* :mod:`.scan` (CSV blocks on threads), :mod:`.csvblock` (one block parsed), :mod:`.parquet`.
* :mod:`.cells` (what a number is), :mod:`.manifest` (which listed files open), :mod:`.datafiles`
  (which files alops opens at all).
"""
