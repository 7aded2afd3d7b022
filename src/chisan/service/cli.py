"""``chisan serve``: the operations service from the command line (typer-compatible)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported by serve: pydantic and the service's settings are not for every chisan command
    from chisan.service.core.config import Settings


def _problems(err: ValueError) -> str:
    errors = getattr(err, "errors", None)
    if errors is None:
        return str(err)
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())) or 'settings'}: {e.get('msg', '')}" for e in errors()
    )


def serve(
    host: Annotated[str | None, typer.Option(help="Address of the REST API and OCPP \\[default: 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port of the REST API, docs at /docs \\[default: 8000].")] = None,
    ocpp_port: Annotated[
        int | None,
        typer.Option(help="Port of the OCPP 1.6J / 2.0.1 central system, ws://host:port/<id> \\[default: 9000]."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL; default sqlite:///chisan.db (created on first start). "
            "PostgreSQL: postgresql://user@host:port/db"
        ),
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario TOML: its town, stations and cars are loaded on first start.")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            help="Output folder of `chisan plan`: its town with the planned PV, storage, stations, cars and "
            "chargers and its tariffs is loaded on first start (instead of --scenario)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes serving the REST API (default 1); OCPP runs in a process of its own.")
    ] = None,
    ocpp_security_profile: Annotated[
        int | None,
        typer.Option(
            help="OCPP security profile: 1 HTTP Basic with each charger's key \\[default], 2 the same over TLS "
            "(wss://, needs --ocpp-tls-cert and --ocpp-tls-key), 0 none (development only).",
            min=0,
            max=2,
        ),
    ] = None,
    ocpp_tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain) of the OCPP server (security profile 2).")
    ] = None,
    ocpp_tls_key: Annotated[Path | None, typer.Option(help="PEM private key of the OCPP server (profile 2).")] = None,
) -> None:
    """Run the operations service: REST API, OCPP central system and the rolling charging schedule.

    Every setting can also come from the environment (CHISAN_DATABASE_URL, CHISAN_PORT, ...); options win. Set
    CHISAN_ADMIN_TOKEN to create municipalities through POST /api/v1/admin/municipalities.
    """

    from chisan.exceptions import ScenarioError
    from chisan.service.core.config import Settings
    from chisan.service.errors import FieldError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ocpp").setLevel(logging.WARNING)  # every frame at INFO; chisan logs connections itself
    if plan is not None and scenario is not None:
        typer.echo(
            f"error: --plan {plan} and --scenario {scenario}: give one (a plan folder holds its scenario.toml)",
            err=True,
        )
        raise typer.Exit(code=2)
    try:
        settings = Settings.from_env(
            host=host,
            port=port,
            ocpp_host=host,  # one address for both servers
            ocpp_port=ocpp_port,
            database_url=database_url,
            scenario_path=scenario,
            plan_path=plan,
            workers=workers,
            ocpp_security_profile=ocpp_security_profile,
            ocpp_tls_cert_path=ocpp_tls_cert,
            ocpp_tls_key_path=ocpp_tls_key,
        )
        _check_town(settings)
    except (ScenarioError, FieldError) as err:  # a tariff the schedule could not use: FieldError, naming it
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from None
    except ValueError as err:  # pydantic's ValidationError is a ValueError: one line per setting at fault
        typer.echo(f"chisan serve: {_problems(err)}", err=True)
        raise typer.Exit(code=2) from None
    from chisan.service.main import run

    def started(app) -> None:
        typer.echo(f"REST API   http://{settings.host}:{settings.port}  (docs: /docs, dashboard: /dashboard)")
        scheme = "wss" if settings.ocpp_security_profile == 2 else "ws"
        typer.echo(
            f"OCPP 1.6J / 2.0.1  {scheme}://{settings.ocpp_host}:{settings.ocpp_port}/<charge point id>  "
            f"(security profile {settings.ocpp_security_profile}; keys: POST /api/v1/chargers/<id>/authorization-key)"
        )
        typer.echo(f"database   {settings.database_url}")
        key = getattr(app.state, "scenario_key", None)
        if key:
            typer.echo(f"API key of the scenario's town (shown once, store it): {key}")

    run(settings, on_started=started)


def _check_town(settings: Settings) -> None:
    """Read the plan folder or scenario before starting, so that a mistake is one message, not a traceback."""
    if settings.plan_path is not None:
        from chisan.service.from_plan import load_plan

        plan = load_plan(settings.plan_path)
        _check_tariffs(plan.scenario)
        capacities = plan.capacities
        typer.echo(
            f"plan       {plan.folder}: {len(plan.scenario.stations)} stations, PV {capacities['pv_kw']:.1f} kW, "
            f"storage {capacities['storage_kwh']:.1f} kWh / {capacities['storage_kw']:.1f} kW"
            + (
                f", second-life storage {capacities['second_life_kwh']:.1f} kWh / {capacities['second_life_kw']:.1f} kW"
                if capacities["second_life_kwh"] > 0
                else ""
            )
        )
        for note in plan.notes:
            typer.echo(f"note: {note}")
    elif settings.scenario_path is not None:
        from chisan.scenario.load import load_scenario
        from chisan.service.seed import check_station_coordinates

        scenario = load_scenario(settings.scenario_path)
        check_station_coordinates(scenario, source=settings.scenario_path)
        _check_tariffs(scenario)


def _check_tariffs(scenario) -> None:
    """Every tariff of the town compiles on the day from now (raises FieldError naming it)."""
    import pandas as pd

    from chisan.service.site_prices import check_town_tariffs

    check_town_tariffs(scenario, pd.Timestamp.now(tz="UTC"), scenario.municipality.timezone)
