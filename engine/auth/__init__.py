"""Authentication primitives that do not depend on the web layer."""
