"""chisan.sweep: the plan of every municipality of a country, on Dask.

- :mod:`chisan.sweep.derive` — a municipality's scenario from a template and a row of a table (location → weather
  and solar, population → members, bookings and fleet, prefecture → grid area, emission factor and prices).
- :mod:`chisan.sweep.reduced` — the fast reduced plan (representative stations, linked typical days, the year of
  the town's fleet as one battery), with its error against ``chisan plan`` measured.
- :mod:`chisan.sweep.lp` — the aggregate-fleet LP of :mod:`chisan.plan.model` as a sparse matrix for HiGHS.
- :mod:`chisan.sweep.run` — one Dask task per municipality; failures recorded, results the same wherever they run.
- :mod:`chisan.sweep.store` — one Parquet row per municipality written atomically; resumable; consolidated tables.
- :mod:`chisan.sweep.summary` — national totals, per-prefecture tables, an offline map, costs per km.
- :mod:`chisan.sweep.cli` — the ``chisan sweep`` command.
"""
