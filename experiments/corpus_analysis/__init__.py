"""Analysis of a run corpus for the corpus report: distributions, hypotheses, trajectories, plots.

Torch-free (surrogate.runs, numpy, scipy, matplotlib), so the report runs on any
machine that can read the corpus. `experiments.corpus_report` is the command.
"""
