"""chisan (地産, "produced locally"): plan and run electric car-sharing powered by the town's own renewables.

The pipeline, each stage importing only from the ones before it::

    scenario (TOML) -> resources (PV, wind) + mobility (bookings, fleet) -> plan (linopy + HiGHS)
                    -> results (KPIs, carbon) -> report (HTML) and tables (CSV/Parquet)
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``chisan.__version__``, read from the installed metadata when first asked for (PEP 562): importlib.metadata
    costs ≈ 0.1 s, and every command and every spawned worker imports this package."""
    if name != "__version__":
        raise AttributeError(f"module 'chisan' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("chisan")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
