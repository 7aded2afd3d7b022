"""chisan.report."""
