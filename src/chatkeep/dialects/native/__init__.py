"""chatkeep's own API."""
