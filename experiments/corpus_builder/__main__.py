"""`python -m experiments.corpus_builder build|stats ...` (same as `tunecast corpus ...`)."""

import sys

from experiments.corpus_builder.cli import main

if __name__ == "__main__":
    sys.exit(main())
