"""chisan (地産, "produced locally"): plan and run electric car-sharing powered by the town's own renewables.

The pipeline, each stage importing only from the ones before it::

    scenario (TOML) -> resources (PV, wind) + mobility (bookings, fleet) -> plan (linopy + HiGHS)
                    -> results (KPIs, carbon) -> report (HTML) and tables (CSV/Parquet)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chisan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
