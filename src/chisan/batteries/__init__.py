"""chisan.batteries."""
