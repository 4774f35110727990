"""Training: one trainer per method plus the shared loop. Never imported by pipelines or serving."""
