"""Probe suites: declarative data files, their loaders, a registry and scoring."""
