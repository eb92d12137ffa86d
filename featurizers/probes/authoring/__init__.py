"""Authoring of the probe-suite data files: hand-written tables and templates, one build.

Run `python -m featurizers.probes.authoring.build [OUT_DIR]` to regenerate every file in
`featurizers/probes/data/` deterministically; the tables here are the source of truth.
"""
