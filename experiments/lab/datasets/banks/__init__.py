"""Hand-written text banks (templates, slot values, phrases) the families draw from."""
