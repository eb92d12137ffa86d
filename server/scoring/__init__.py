"""Batch scoring: many candidate datasets, one loaded base model, a ranked table and a report."""
