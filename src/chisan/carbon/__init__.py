"""chisan.carbon."""
