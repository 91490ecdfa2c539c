"""The domain core: organisations, principals, conversations, turns, usage. No HTTP in here."""
