"""chisan.sweep."""
