"""Published reference data shipped with chisan (vehicle models, technology costs, emission factors).

Each table is a CSV next to this file with a ``source`` column; loaders validate names and list the valid ones.
"""
