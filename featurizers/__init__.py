"""Model-side of tunecast: loading causal LMs, probe suites and their scoring.

Nothing is imported eagerly here, so `import featurizers` stays cheap; import the
submodules you need (`featurizers.loading`, `featurizers.probes.evaluate`).
"""

FEATURIZER_VERSION = "0.2.0"
