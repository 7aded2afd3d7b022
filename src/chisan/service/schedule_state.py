"""The town as one schedule sees it: :class:`FleetState` read from the database (:func:`load_state`).

Step 1 of the pipeline of :mod:`chisan.service.scheduler`, which re-exports these names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from chisan.service import crud, disaster, models
from chisan.service.forecast import scenario_weather, weather_on

LOOKAHEAD_HOURS = 24.0
"""Bookings this long after the horizon set the energy each car must hold at its end [h]."""


@dataclass
class FleetState:
    """Everything one schedule needs, read from the database (or built by hand in tests).

    Attributes
    ----------
    snapshots : pd.DatetimeIndex
        Step starts of the horizon, tz-aware, regular.
    dt_hours : float
        Step [h].
    stations : pd.DataFrame
        Index station id (str): ``chargers`` [-], ``charger_kw`` [kW], ``connection_limit_kw`` [kW] (NaN = none).
    vehicles : pd.DataFrame
        Index vehicle id (str): ``station`` (str), ``usable_kwh``, ``reserve_kwh`` [kWh], ``max_charge_kw`` [kW]
        (car and charger), ``charge_efficiency`` [-], ``energy_kwh`` (now) [kWh].
    bookings : pd.DataFrame
        ``booking_id`` (int), ``vehicle`` (str), ``start``, ``end`` (tz-aware; a late return extends the end),
        ``trip_energy_kwh`` [kWh]; bookings under way have their start before the first step. Optional
        ``is_booking`` (bool, default True): False for a session without a booking (served after bookings).
    pv_kw : pd.Series
        PV output available on the snapshots [kW].
    import_price_per_kwh : pd.Series
        [currency/kWh].
    emission_factor_kg_per_kwh : pd.Series
        [kg CO2e/kWh].
    carbon_price_per_kg : float
        [currency/kg CO2e].
    grid_connection_limit_kw : float or None
        Town's import limit [kW].
    storage_kwh, storage_kw : float
        Stationary storage [kWh], [kW] (0 = none).
    pv_credit_per_kwh : float
        Preference for PV [currency/kWh].
    station_import_price_per_kwh : pd.DataFrame or None
        Import price of each station's meter, snapshots × station ids [currency/kWh], when some station's site
        has a tariff of its own in the town's scenario (:mod:`chisan.service.site_prices`); None = every station
        on ``import_price_per_kwh``.
    demand_charge_per_kw : float
        The town's one meter (``grid.topology = "single_meter"``) on a peak-demand contract: basic charge × 12
        months per kW of the town's highest 30-minute import in the horizon [currency/kW]
        (:mod:`chisan.service.site_prices`); 0 = none.
    station_demand_charge_per_kw : pd.Series or None
        The same per station id, for per-site meters [currency/kW]; None = none.
    contract_kw : float
        The town meter's contract so far, the highest 30-minute demand earlier schedules drew [kW]: raising the
        demand up to it costs nothing more (the plan's carried peak, ``PlanInputs.contract_kw_min``).
    station_contract_kw : pd.Series or None
        The same per station id (per-site meters) [kW].
    tariff : str or None
        Name of the town's ``grid.tariff``, None on flat prices.
    called_vehicles : frozenset of str
        Vehicle ids called to the shelters by the town's disaster mode (:mod:`chisan.service.disaster`): the
        schedule charges them to full by its end (their terminal energy is their usable energy, as far as
        attainable).
    """

    snapshots: pd.DatetimeIndex
    dt_hours: float
    stations: pd.DataFrame
    vehicles: pd.DataFrame
    bookings: pd.DataFrame
    pv_kw: pd.Series
    import_price_per_kwh: pd.Series
    emission_factor_kg_per_kwh: pd.Series
    carbon_price_per_kg: float = 0.0
    grid_connection_limit_kw: float | None = None
    storage_kwh: float = 0.0
    storage_kw: float = 0.0
    pv_credit_per_kwh: float = 1.0
    pv_source: str = "none"
    called_vehicles: frozenset[str] = frozenset()
    station_import_price_per_kwh: pd.DataFrame | None = None
    demand_charge_per_kw: float = 0.0
    station_demand_charge_per_kw: pd.Series | None = None
    contract_kw: float = 0.0
    station_contract_kw: pd.Series | None = None
    tariff: str | None = None

    @property
    def n_steps(self) -> int:
        return len(self.snapshots)


# --- reading the town


def schedule_start(now: dt.datetime, step_minutes: int, timezone: str) -> pd.Timestamp:
    """First step of a schedule computed at ``now``: the step boundary at or before it, on the town's clock."""
    return pd.Timestamp(now).tz_convert(zoneinfo.ZoneInfo(timezone)).floor(f"{step_minutes}min")


def _pv_series(
    session: Session, municipality: models.Municipality, snapshots: pd.DatetimeIndex, dt_hours: float
) -> tuple[pd.Series, str]:
    """PV output forecast on the snapshots [kW]: supplied values where given, else the scenario's weather."""
    utc = snapshots.tz_convert("UTC")
    supplied = crud.get_pv_forecast(
        session,
        municipality_id=municipality.id,
        start=utc[0].to_pydatetime(),
        end=(utc[-1] + pd.Timedelta(hours=dt_hours)).to_pydatetime(),
    )
    pv = pd.Series(np.nan, index=snapshots, name="pv_kw")
    source = []
    if len(supplied):
        pv[:] = supplied.reindex(utc, method="ffill", tolerance=pd.Timedelta(hours=dt_hours) * 0.999).to_numpy()
        source.append("supplied")
    if pv.isna().any() and municipality.scenario_path and municipality.pv_kw > 0:
        per_kw = weather_on(scenario_weather(municipality.scenario_path), snapshots)["pv_kw_per_kw"]
        pv = pv.fillna(per_kw * municipality.pv_kw)
        source.append("scenario weather")
    if pv.isna().any():
        source.append("none (0 kW)" if pv.isna().all() else "0 kW where missing")
    return pv.fillna(0.0), " + ".join(source)


def load_state(
    session: Session,
    *,
    municipality: models.Municipality,
    now: dt.datetime,
    step_minutes: int = 15,
    horizon_hours: float = 36.0,
    pv_credit_per_kwh: float = 1.0,
) -> FleetState:
    """The town's state for a schedule starting at the step containing ``now``."""
    dt_hours = step_minutes / 60.0
    n = round(horizon_hours / dt_hours)
    start = schedule_start(now, step_minutes, municipality.timezone)
    snapshots = pd.date_range(start, periods=n, freq=f"{step_minutes}min")
    stations = crud.list_stations(session, municipality_id=municipality.id)
    chargers = dict(
        session.execute(
            sa.select(models.Charger.station_id, sa.func.count())
            .where(models.Charger.municipality_id == municipality.id)
            .group_by(models.Charger.station_id)
        ).all()
    )
    st = pd.DataFrame(
        {
            "chargers": [int(chargers.get(s.id, 0)) for s in stations],
            "charger_kw": [s.charger_kw for s in stations],
            "connection_limit_kw": [
                np.nan if s.connection_limit_kw is None else s.connection_limit_kw for s in stations
            ],
        },
        index=pd.Index([str(s.id) for s in stations], name="station"),
    )
    cars = [v for v in crud.list_vehicles(session, municipality_id=municipality.id) if not v.is_disabled]
    energy = crud.energies_now_kwh(session, municipality_id=municipality.id, now=now)
    charger_kw = {str(s.id): s.charger_kw for s in stations}
    veh = pd.DataFrame(
        {
            "station": [str(v.station_id) for v in cars],
            "usable_kwh": [v.usable_kwh for v in cars],
            "reserve_kwh": [v.reserve_kwh for v in cars],
            "max_charge_kw": [
                min(v.max_charge_kw, charger_kw[str(v.station_id)]) if chargers.get(v.station_id, 0) else 0.0
                for v in cars
            ],
            "charge_efficiency": [v.charge_efficiency for v in cars],
            "energy_kwh": [energy[v.id] for v in cars],
        },
        index=pd.Index([str(v.id) for v in cars], name="vehicle"),
    )
    horizon_end = snapshots[-1] + pd.Timedelta(hours=dt_hours + LOOKAHEAD_HOURS)
    rows = session.execute(
        sa.select(
            models.Booking.id,
            models.Booking.vehicle_id,
            models.Booking.start_at,
            models.Booking.end_at,
            models.Booking.expected_return_at,
            models.Booking.trip_energy_kwh,
        ).where(
            models.Booking.municipality_id == municipality.id,
            models.Booking.status == "confirmed",
            models.Booking.start_at < horizon_end.to_pydatetime(),
            sa.or_(models.Booking.end_at > now, models.Booking.expected_return_at > now),
        )
    ).all()
    bookings = pd.DataFrame(
        [
            {
                "booking_id": r[0],
                "vehicle": str(r[1]),
                "start": pd.Timestamp(r[2]),
                "end": pd.Timestamp(max(r[3], r[4] or r[3])),
                "trip_energy_kwh": float(r[5]),
            }
            for r in rows
            if str(r[1]) in veh.index
        ],
        columns=["booking_id", "vehicle", "start", "end", "trip_energy_kwh"],
    )
    for c in ("start", "end"):
        bookings[c] = pd.to_datetime(bookings[c], utc=True).dt.tz_convert(snapshots.tz)
    pv, source = _pv_series(session, municipality, snapshots, dt_hours)
    price = pd.Series(municipality.import_price_per_kwh, index=snapshots, name="import_price_per_kwh", dtype=float)
    station_price = None
    grid_limit = municipality.grid_connection_limit_kw
    town_demand, station_demand, tariff = 0.0, None, None
    if municipality.scenario_path:
        from chisan.scenario.load import load_scenario
        from chisan.service.site_prices import meter_tariffs

        scenario = load_scenario(municipality.scenario_path)
        meters = meter_tariffs(
            scenario,
            {str(s.id): s.name for s in stations},
            snapshots,
            municipality.import_price_per_kwh,
            station_kw=(st["chargers"] * st["charger_kw"]).to_dict(),
        )
        price = meters.town.import_price_per_kwh.rename("import_price_per_kwh")
        station_price, tariff = meters.station_import_price_per_kwh, meters.tariff
        town_demand = meters.town_demand_charge_per_kw
        if meters.town_contract_kw is not None:  # the breaker of a fixed contract caps the town's import
            grid_limit = min(meters.town_contract_kw, grid_limit if grid_limit is not None else np.inf)
        if meters.station_demand_charge_per_kw.gt(0).any():
            station_demand = meters.station_demand_charge_per_kw
        st["connection_limit_kw"] = np.fmin(st["connection_limit_kw"], meters.station_contract_kw.reindex(st.index))
    ef = pd.Series(municipality.emission_factor_kg_per_kwh, index=snapshots, name="emission_factor_kg_per_kwh")
    held = disaster.called_cars(session, municipality_id=municipality.id)
    return FleetState(
        snapshots=snapshots,
        dt_hours=dt_hours,
        stations=st,
        vehicles=veh,
        bookings=bookings,
        pv_kw=pv,
        import_price_per_kwh=price,
        emission_factor_kg_per_kwh=ef.astype(float),
        carbon_price_per_kg=municipality.carbon_price_per_kg,
        grid_connection_limit_kw=grid_limit,
        storage_kwh=municipality.storage_kwh,
        storage_kw=municipality.storage_kw,
        pv_credit_per_kwh=pv_credit_per_kwh,
        pv_source=source,
        called_vehicles=frozenset() if held is None else frozenset(str(v) for v in held.names) & set(veh.index),
        station_import_price_per_kwh=station_price,
        demand_charge_per_kw=town_demand,
        station_demand_charge_per_kw=station_demand,
        contract_kw=float(municipality.contract_kw or 0.0),
        station_contract_kw=pd.Series([float(s.contract_kw or 0.0) for s in stations], index=st.index, dtype=float),
        tariff=tariff,
    )


def with_pv(state: FleetState, pv_kw: pd.Series) -> FleetState:
    """A copy of ``state`` with another PV forecast [kW]."""
    return dataclasses.replace(state, pv_kw=pv_kw)
