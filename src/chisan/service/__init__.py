"""chisan.service — the operations service: bookings, smart charging on local solar, chargers over OCPP, open data.

Run it with ``chisan serve`` (or ``python -m chisan.service``): the REST API (FastAPI, OpenAPI at ``/docs``) and
the OCPP 1.6J / 2.0.1 central system (``ws://host:<ocpp port>/<charge point id>``) on SQLite by default
(``./chisan.db``, created on first start) or PostgreSQL (``--database-url postgresql://…``); the schema comes from
the Alembic migrations in ``alembic/``, applied on start. ``--scenario town.toml`` loads a scenario's town once.

Layout (full-stack-fastapi-template style): ``core/`` settings and database, ``models.py`` tables, ``schemas.py``
API bodies, ``crud.py`` keyword-only data functions (the cars in ``vehicles.py``, the booking life cycle and its
disaster-mode checks in ``bookings.py``, re-exported by ``crud``), ``api/`` thin routers with typed dependencies,
``admission.py`` charge-aware booking admission, ``scheduler.py`` the rolling schedule from the planning model
(steps in ``schedule_state.py``, ``schedule_inputs.py``, ``schedule_verify.py``; with ``fallback.py``, least
laxity first), ``ocpp/`` the central system, ``gbfs.py`` open data, ``metrics.py``
metrics per station and day, ``static/`` the operator's dashboard, ``testing.py`` helpers for tests and benchmarks.
"""
