"""Deploy phases as fixtures (filled in by the deploy work)."""
