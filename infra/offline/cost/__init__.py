"""Monthly cost estimates of a stack's plan, from a dated, sourced price table per region (`make cost`)."""
