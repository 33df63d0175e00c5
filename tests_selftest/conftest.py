"""Shared fixtures of the selftests."""
