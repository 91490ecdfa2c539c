"""The QuantCDN AI API dialect (v3 paths, the British-spelling alias and the older family)."""
