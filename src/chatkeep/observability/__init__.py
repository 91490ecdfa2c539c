"""What operators see of a running chatkeep: Prometheus metrics, OpenTelemetry traces and structured logs.

The core reports to this package through a few small calls (`observe.turn`, `observe.scan`, …); nothing
here changes what the core does.
"""
