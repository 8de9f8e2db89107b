"""Use cases (layer 5): one function per use case, in the caller's transaction."""
