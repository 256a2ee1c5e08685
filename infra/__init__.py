"""The platform program: typed stack config, wiring of components, outputs and the offline engine."""
