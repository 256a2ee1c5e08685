"""Delivery tooling the deploy workflow runs between stacks (the monitoring gate)."""
