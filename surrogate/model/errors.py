"""Exceptions of the meta-model, one per way a caller can get it wrong.

All are ``ValueError`` subclasses so callers that only know "bad input" still
catch them; the server maps each to INVALID_ARGUMENT with its message.
"""

from __future__ import annotations


class NotFittedError(ValueError, AttributeError):
    """The estimator was used before ``fit`` or ``load`` gave it fitted state."""


class CalibrationTooSmallError(ValueError):
    """Too few calibration rows for split conformal to honour the requested level."""


class SchemaMismatchError(ValueError):
    """Features, targets or featurizer version differ from what the model was fitted on."""


class ArtifactError(ValueError):
    """A model directory on disk is incomplete, altered or of an unknown format."""
