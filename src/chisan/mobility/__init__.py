"""chisan.mobility."""
