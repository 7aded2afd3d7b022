"""chisan.plan."""
