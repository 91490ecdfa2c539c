"""Reproducible training of the guards' injection classifier (run from the repository root)."""
