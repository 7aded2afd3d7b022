"""chisan.scenario."""
