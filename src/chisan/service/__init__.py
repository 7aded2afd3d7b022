"""chisan.service."""
