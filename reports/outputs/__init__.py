"""Renderers: one module per output, each reading a RunSummary."""
