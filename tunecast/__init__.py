"""tunecast: forecast what a fine-tune will do to a language model before paying for it.

This package holds only the command-line entry point; the work lives in the card's
packages (`featurizers`, `surrogate`, `server`, `experiments`).
"""

__version__ = "0.1.0"
