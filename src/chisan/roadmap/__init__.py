"""chisan.roadmap: the town run forward year by year to its carbon target, with the 4R lifecycle of its packs.

Modules: :mod:`~chisan.roadmap.schema` (the ``[roadmap]`` table), :mod:`~chisan.roadmap.health` (state of
health from the planned operation), :mod:`~chisan.roadmap.run` (the year-by-year loop and the emissions
path), :mod:`~chisan.roadmap.figures` and :mod:`~chisan.roadmap.report` (the roadmap report),
:mod:`~chisan.roadmap.cli` (``chisan roadmap``).
"""
