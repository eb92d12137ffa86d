"""Project-written templated segments of the lab corpus: knowledge, balanced associations, assistant chat."""
