"""One module per group of dataset families; `builtin.default_registry()` registers them all."""
