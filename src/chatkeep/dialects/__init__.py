"""API dialects: each parses its wire format, calls the core and renders the result. No business rules."""
