"""Post-deploy monitoring: the window rules, the canary chart, triage, and the watch."""
