"""chisan.resources."""
