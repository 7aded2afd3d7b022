"""PlanInputs: every number the optimisation model needs, on one time index, with units.

A :class:`PlanInputs` is built from a scenario by :func:`chisan.plan.prepare.prepare_inputs` (weather → PV and
wind per kW, bookings → per-vehicle plug-in availability and trip energy, grid prices and emission factors), and
the service builds smaller ones (36 h at 15 min) for day-ahead schedules. The model never reads a scenario.

Time: ``snapshots`` is a tz-aware, regular index; each step lasts ``dt_hours`` [h] and stands for ``weight`` steps
of the year (1 in a chronological year; the number of days a typical day represents in a reduced year). Steps
that share a ``period`` label form one cyclic block (a typical day); in a chronological run there is one period.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from chisan.exceptions import ScenarioError

if TYPE_CHECKING:
    from chisan.plan.hydrogen import HydrogenInputs


KEPT_CHARGING = "kept_charging_kw"
"""Key in ``PlanInputs.extra``: charging the plan does not control, inside ``other_load_kw`` [kW per step] (a
simulated autonomous car's charging in steps it is parked for only part of, :mod:`chisan.autonomous.plan_inputs`)."""


@dataclass(frozen=True)
class Capacity:
    """A sizable technology (PV, wind, storage energy, storage power).

    Attributes
    ----------
    annual_cost_per_unit : float
        Annualised investment plus fixed O&M [currency/unit/year] (unit = kW or kWh).
    min_units, max_units : float
        Bounds of the capacity [kW or kWh]; ``max_units = inf`` for no limit.
    fixed_units : float or None
        When set, the capacity is not optimised but fixed at this value.
    """

    annual_cost_per_unit: float = 0.0
    min_units: float = 0.0
    max_units: float = np.inf
    fixed_units: float | None = None
    enabled: bool = True

    @property
    def lower(self) -> float:
        """Lower bound used in the model [unit]."""
        if not self.enabled:
            return 0.0
        return self.fixed_units if self.fixed_units is not None else self.min_units

    @property
    def upper(self) -> float:
        """Upper bound used in the model [unit]."""
        if not self.enabled:
            return 0.0
        return self.fixed_units if self.fixed_units is not None else self.max_units

    def fixed_at(self, units: float) -> Capacity:
        """This capacity fixed at ``units`` (used by the dispatch stage of a two-stage plan)."""
        return dataclasses.replace(self, fixed_units=float(units))


CAPACITIES = ("pv_kw", "wind_kw", "storage_kwh", "storage_kw")
"""Names of the sizable capacities, with their units."""


@dataclass
class PlanInputs:
    """All inputs of one planning (or scheduling) model.

    Time series are indexed by ``snapshots``; per-vehicle frames have one column per vehicle id (``vehicles.index``).

    Attributes
    ----------
    snapshots : pd.DatetimeIndex
        Start of each step, tz-aware, regular.
    dt_hours : float
        Step length [h].
    weight : pd.Series
        Steps of the year each step stands for [-] (1 for a chronological year).
    period : pd.Series
        Cyclic block of each step (int); storage and vehicle energy wrap within a block.
    period_order : np.ndarray or None
        For typical periods: the period (cluster) of each real period of the year, in calendar order. When given,
        storage and fleet energy are linked across the real periods (Kotzur et al. 2018) instead of wrapping
        within each typical period, so energy can be carried from one day to the next.
    pv_kw_per_kw, wind_kw_per_kw : pd.Series
        Available output per kW installed [kW/kW] (PV per kW DC nameplate).
    temp_air_c : pd.Series
        Air temperature [°C] (for reporting).
    import_price_per_kwh, export_price_per_kwh : pd.Series
        Grid prices [currency/kWh].
    emission_factor_kg_per_kwh : pd.Series
        Location-based grid emission factor [kg CO2e/kWh].
    market_emission_factor_kg_per_kwh : float
        Supplier's (market-based) factor for imported electricity [kg CO2e/kWh].
    other_load_kw : pd.Series
        Other load on the town bus [kW] (station buildings), 0 by default.
    stations : pd.DataFrame
        Index station name; ``chargers`` [-], ``charger_kw`` [kW], ``connection_limit_kw`` [kW] (NaN = none).
    vehicles : pd.DataFrame
        Index vehicle id; ``station``, ``usable_kwh``, ``reserve_kwh`` [kWh], ``max_charge_kw`` [kW],
        ``charge_efficiency`` [-].
    plugged : pd.DataFrame
        True where the vehicle is at its station for the whole step (may charge).
    trip_energy_kwh : pd.DataFrame
        Energy leaving each battery in the step a booking starts [kWh]; negative where energy enters it outside
        the plan's control (a simulated autonomous car's kept charging, :mod:`chisan.autonomous.plan_inputs`).
    initial_energy_kwh : pd.Series or None
        Vehicle energy before the first step [kWh]; None = cyclic (end equals start).
    initial_storage_kwh : float, pd.Series or None
        Storage energy before the first step [kWh]; None = cyclic. With metered sites, a Series per storage site
        (a float is the energy of the only storage site, or 0 at every site).
    capacities : dict[str, Capacity]
        ``pv_kw``, ``wind_kw``, ``storage_kwh``, ``storage_kw``.
    vehicle_holding_cost_per_kwh_h : float
        Cost of keeping energy in a vehicle battery [currency/kWh/h]: the calendar ageing that a higher state of
        charge causes, priced at the pack cost. Without it an LP holds energy at no cost and may fill the cars
        for weeks; with it the cars charge close to when they need the energy.
    fleet_mode : {"vehicle", "station"}
        Model each vehicle, or each station's fleet as one aggregate battery (a relaxation, for sizing).
    station_available_kw, station_trip_energy_kwh : pd.DataFrame or None
        Per-station aggregates (snapshots × stations) for ``fleet_mode="station"``: charging power of the vehicles
        plugged in, capped by the chargers [kW], and trip energy leaving [kWh]. Computed from the per-vehicle
        frames when not given (a reduced year of typical days gives them directly).
    mask_unplugged : bool
        True: no charging variable while unplugged (smallest model). False: a variable bounded to 0, so that
        every window of a rolling dispatch has the same structure.
    terminal_energy_kwh : pd.Series or None
        Least energy each vehicle must hold after the last step [kWh] (non-cyclic windows).
    import_penalty_per_kwh, renewable_credit_per_kwh : float
        Shadow prices of policy targets [currency/kWh], added to the import cost and subtracted from the cost
        of renewable output; a decomposed dispatch uses them in place of the annual constraints.
    terminal_fleet_target_kwh, terminal_storage_target_kwh : float or None
        Energy the whole fleet / the storage should hold after the last step [kWh]; a shortfall is allowed at
        ``terminal_shortfall_cost_per_kwh`` [currency/kWh] (soft targets for the windows of a rolling dispatch,
        taken from a year-long aggregate plan).
    basic_charge_per_kw_month : float
        Basic charge of the tariff [currency/kW/month] on the contract kW (``Tariff-peak_kw``); 0 = none.
    contract_kw_min : float
        Least contract kW [kW]: the peak carried into a rolling dispatch window from the sizing stage or the
        windows before it (a lower bound of ``Tariff-peak_kw``).
    contract_kw_fixed : float or None
        A contract fixed in advance [kW] (low voltage): ``Tariff-peak_kw`` is fixed at it and caps the demand.
    tariff_billed_months : float or None
        Months of basic charge one contract kW costs in the objective; None = 12 per year when annualised, the
        horizon's share of 12 otherwise (see :func:`chisan.plan.tariff_constraints.billed_months`).
    sites : pd.DataFrame or None
        Sites behind their own meters (``grid.topology = "per_site"``), index site name: ``pv_max_kw`` [kW]
        (roof/carport limit, inf = none), ``connection_limit_kw`` [kW] (NaN = none) and ``storage_max_kwh``
        [kWh] (stationary storage the site can take; inf = no limit, 0 = none). Each station then names
        its site in ``stations["site"]``. None = one town bus behind one meter (``"single_meter"``).
    site_other_load_kw : pd.DataFrame or None
        Other load per site [kW], snapshots × sites; ``other_load_kw`` is its row sum. Defaults to all of
        ``other_load_kw`` at the first site.
    site_pv_fixed_kw : pd.Series or None
        PV installed per site [kW] when fixed (the dispatch stage after sizing); None = optimised.
    storage_site : str or None
        The only site that may have stationary storage (``technologies.storage.site``); None = every site
        within its ``storage_max_kwh``. Encoded into ``sites["storage_max_kwh"]`` (0 at the other sites).
    wind_site : str or None
        Site whose meter the wind turbine is behind (default: the first site).
    site_storage_fixed_kwh, site_storage_fixed_kw : pd.Series or None
        Storage energy [kWh] and power [kW] installed per site when fixed (the dispatch stage after sizing);
        None = the split between sites is optimised.
    links : pd.DataFrame or None
        Private lines between sites, index link name: ``site0``, ``site1``, ``fee_per_kwh`` [currency/kWh]
        (0 for a private network, the wheeling fee for 自己託送) and ``limit_kw`` [kW] (inf = none).
    contract_kw_min_by_site : pd.Series or None
        Per-site least contract kW [kW] (the peak carried into a rolling window), when sites are metered.
    site_import_price_per_kwh, site_export_price_per_kwh : pd.DataFrame or None
        Each metered site's own prices [currency/kWh], snapshots × sites, when some site has a tariff of its own
        (``sites.tariff``); None = every site on the town's ``import_price_per_kwh`` / ``export_price_per_kwh``.
        With them the objective prices ``Site-import_kw`` and ``Site-export_kw`` instead of the town's sums.
    site_tariffs : pd.DataFrame or None
        Given with the site prices, index site: ``tariff`` (name), ``basic_charge_per_kw_month``
        [currency/kW/month] and ``contract_kw_fixed`` [kW] (NaN = the site's highest 30-minute demand): each
        site's ``Tariff-peak_kw`` follows its own tariff instead of ``basic_charge_per_kw_month`` and
        ``contract_kw_fixed``.
    hydrogen : chisan.plan.hydrogen.HydrogenInputs or None
        The hydrogen station and its fuel-cell vehicles (:mod:`chisan.plan.hydrogen`); None = no hydrogen.
    """

    snapshots: pd.DatetimeIndex
    dt_hours: float
    pv_kw_per_kw: pd.Series
    wind_kw_per_kw: pd.Series
    import_price_per_kwh: pd.Series
    export_price_per_kwh: pd.Series
    emission_factor_kg_per_kwh: pd.Series
    stations: pd.DataFrame
    vehicles: pd.DataFrame
    plugged: pd.DataFrame | None
    trip_energy_kwh: pd.DataFrame | None
    capacities: dict[str, Capacity]
    weight: pd.Series | None = None
    period: pd.Series | None = None
    period_order: np.ndarray | None = None
    temp_air_c: pd.Series | None = None
    other_load_kw: pd.Series | None = None
    market_emission_factor_kg_per_kwh: float | None = None
    initial_energy_kwh: pd.Series | None = None
    initial_storage_kwh: float | pd.Series | None = None
    storage_charge_efficiency: float = 0.95
    storage_discharge_efficiency: float = 0.95
    storage_self_discharge_per_hour: float = 0.0
    storage_max_c_rate_per_h: float = 1.0
    grid_connection_limit_kw: float | None = None
    allow_export: bool = True
    renewable_share_min: float | None = None
    renewable_share_basis: str = "annual"
    carbon_price_per_kg: float = 0.0
    max_grid_import_kwh: float | None = None
    max_emissions_kg: float | None = None
    v2g: bool = False
    v2g_cost_per_kwh: float = 0.0
    vehicle_holding_cost_per_kwh_h: float = 0.0
    fleet_mode: str = "vehicle"
    station_available_kw: pd.DataFrame | None = None
    station_trip_energy_kwh: pd.DataFrame | None = None
    station_min_energy_kwh: pd.DataFrame | None = None
    mask_unplugged: bool = True
    terminal_energy_kwh: pd.Series | None = None
    import_penalty_per_kwh: float = 0.0
    renewable_credit_per_kwh: float = 0.0
    terminal_fleet_target_kwh: float | None = None
    terminal_storage_target_kwh: float | None = None
    terminal_shortfall_cost_per_kwh: float = 0.0
    basic_charge_per_kw_month: float = 0.0
    contract_kw_min: float = 0.0
    contract_kw_fixed: float | None = None
    tariff_billed_months: float | None = None
    annualise: bool = True
    currency: str = "JPY"
    sites: pd.DataFrame | None = None
    site_other_load_kw: pd.DataFrame | None = None
    site_pv_fixed_kw: pd.Series | None = None
    storage_site: str | None = None
    wind_site: str | None = None
    site_storage_fixed_kwh: pd.Series | None = None
    site_storage_fixed_kw: pd.Series | None = None
    links: pd.DataFrame | None = None
    contract_kw_min_by_site: pd.Series | None = None
    site_import_price_per_kwh: pd.DataFrame | None = None
    site_export_price_per_kwh: pd.DataFrame | None = None
    site_tariffs: pd.DataFrame | None = None
    hydrogen: HydrogenInputs | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.snapshots)
        if self.weight is None:
            self.weight = pd.Series(1.0, index=self.snapshots, name="weight")
        if self.period is None:
            self.period = pd.Series(0, index=self.snapshots, name="period")
        if self.other_load_kw is None:
            self.other_load_kw = pd.Series(0.0, index=self.snapshots, name="other_load_kw")
        if self.market_emission_factor_kg_per_kwh is None:
            self.market_emission_factor_kg_per_kwh = float(self.emission_factor_kg_per_kwh.mean())
        for name in CAPACITIES:
            self.capacities.setdefault(name, Capacity(enabled=False))
        if self.sites is not None:
            _complete_sites(self)
            _align_site_prices(self)
        elif self.site_priced:
            raise ScenarioError("PlanInputs.site_import_price_per_kwh is given but there are no metered sites")
        check_inputs(self, n)

    @property
    def hours_represented(self) -> float:
        """Hours of the year the snapshots stand for [h] (Σ weight × dt)."""
        return float(self.weight.sum() * self.dt_hours)

    @property
    def opex_scale(self) -> float:
        """Factor turning operating cost over the snapshots into cost per year [-]."""
        return 8760.0 / self.hours_represented if self.annualise else 1.0

    @property
    def site_priced(self) -> bool:
        """True when some metered site is billed on a tariff of its own (``site_import_price_per_kwh``)."""
        return self.site_import_price_per_kwh is not None

    @property
    def per_site(self) -> bool:
        """True when every site has its own meter (a bus per site), False for one town bus."""
        return self.sites is not None

    def with_capacities_fixed(
        self,
        values: dict[str, float],
        site_pv_kw: pd.Series | None = None,
        site_storage: pd.DataFrame | None = None,
    ) -> PlanInputs:
        """A copy with the given capacities fixed (e.g. the sizing result), others unchanged.

        ``site_pv_kw`` fixes the PV of each site [kW] as well (metered sites); without it the sizing's town
        total is fixed and the split between sites stays free. ``site_storage`` (columns ``storage_kwh``,
        ``storage_kw``, index site) fixes each site's storage [kWh, kW] in the same way.
        """
        caps = {k: (c.fixed_at(values[k]) if k in values and c.enabled else c) for k, c in self.capacities.items()}
        changes: dict = {"capacities": caps}
        if site_pv_kw is not None and self.per_site:
            changes["site_pv_fixed_kw"] = site_pv_kw.reindex(self.sites.index).fillna(0.0).astype(float)
        if site_storage is not None and self.per_site:
            split = site_storage.reindex(self.sites.index).fillna(0.0).astype(float)
            changes["site_storage_fixed_kwh"] = split["storage_kwh"]
            changes["site_storage_fixed_kw"] = split["storage_kw"]
        return dataclasses.replace(self, **changes)

    @property
    def storage_sites(self) -> pd.Index:
        """Metered sites that may hold stationary storage (``storage_max_kwh`` > 0), in site order."""
        if not self.per_site:
            return pd.Index([], name="site")
        allowed = self.sites["storage_max_kwh"].to_numpy(float) > 0
        return pd.Index(self.sites.index.astype(str)[allowed], name="site")


def _complete_sites(inputs: PlanInputs) -> None:
    """Fill the defaults of metered sites (station = site, other load at the first site) and check them."""
    sites = inputs.sites.copy()
    sites.index = sites.index.astype(str)
    if len(sites) == 0:
        raise ScenarioError("PlanInputs.sites is empty: give at least one site, or None for one town meter")
    if "pv_max_kw" not in sites:
        sites["pv_max_kw"] = np.inf
    if "connection_limit_kw" not in sites:
        sites["connection_limit_kw"] = np.nan
    if "storage_max_kwh" not in sites:
        sites["storage_max_kwh"] = np.inf
    sites["pv_max_kw"] = sites["pv_max_kw"].astype(float).fillna(np.inf)
    sites["connection_limit_kw"] = sites["connection_limit_kw"].astype(float)
    sites["storage_max_kwh"] = sites["storage_max_kwh"].astype(float).fillna(np.inf)
    if "site" not in inputs.stations:
        inputs.stations = inputs.stations.assign(site=inputs.stations.index.astype(str))
    unknown = sorted(set(inputs.stations["site"].astype(str)) - set(sites.index))
    if unknown:
        raise ScenarioError(f"stations at unknown sites {unknown}; the sites are {list(sites.index)}")
    first = sites.index[0]
    for name in ("storage_site", "wind_site"):
        value = getattr(inputs, name)
        if value is None:
            if name == "wind_site":
                setattr(inputs, name, first)
        elif str(value) not in sites.index:
            raise ScenarioError(f"{name} = {value!r} is not a site; the sites are {list(sites.index)}")
    if inputs.storage_site is not None:  # storage "only there": no storage behind the other meters
        sites.loc[sites.index != str(inputs.storage_site), "storage_max_kwh"] = 0.0
    inputs.sites = sites
    frame = inputs.site_other_load_kw
    if frame is not None and not frame.index.equals(inputs.snapshots):
        # a copy on other steps (a slice of the year): take the same steps, or drop an all-zero frame
        if not frame.to_numpy(float).any():
            inputs.site_other_load_kw = None
        elif inputs.snapshots.isin(frame.index).all():
            inputs.site_other_load_kw = frame.reindex(inputs.snapshots)
    if inputs.site_other_load_kw is None:
        frame = pd.DataFrame(0.0, index=inputs.snapshots, columns=sites.index)
        frame[first] = inputs.other_load_kw.to_numpy(float)
        inputs.site_other_load_kw = frame
    else:
        frame = inputs.site_other_load_kw
        if not frame.index.equals(inputs.snapshots) or [str(c) for c in frame.columns] != list(sites.index):
            raise ScenarioError(
                "PlanInputs.site_other_load_kw must be indexed by the snapshots with one column per site"
            )
        inputs.other_load_kw = pd.Series(
            frame.to_numpy(float).sum(axis=1), index=inputs.snapshots, name="other_load_kw"
        )
    if inputs.links is not None and len(inputs.links):
        for col in ("site0", "site1"):
            bad = sorted(set(inputs.links[col].astype(str)) - set(sites.index))
            if bad:
                raise ScenarioError(f"links join unknown sites {bad}; the sites are {list(sites.index)}")


def _align_site_prices(inputs: PlanInputs) -> None:
    """Put the per-site prices on the snapshots and sites of ``inputs`` (a copy for a slice of the year or for
    some of the sites takes their rows and columns); raise ScenarioError when they do not cover them."""
    if not inputs.site_priced:
        return
    sites = list(inputs.sites.index)
    for name in ("site_import_price_per_kwh", "site_export_price_per_kwh"):
        frame = getattr(inputs, name)
        if frame is None:
            raise ScenarioError(f"PlanInputs.{name} is missing: give both site price frames and site_tariffs")
        frame = frame.rename(columns=str)
        missing = [x for x in sites if x not in frame.columns]
        rows_ok = frame.index.equals(inputs.snapshots) or inputs.snapshots.isin(frame.index).all()
        if missing or not rows_ok:
            what = f"sites {missing}" if missing else "every snapshot"
            raise ScenarioError(
                f"PlanInputs.{name} does not cover {what}: a copy of the inputs on other steps or sites must carry "
                "each site's prices on them"
            )
        if not frame.index.equals(inputs.snapshots):
            frame = frame.reindex(inputs.snapshots)
        setattr(inputs, name, frame[sites].astype(float))
    table = inputs.site_tariffs
    if table is None or any(x not in table.index.astype(str) for x in sites):
        raise ScenarioError("PlanInputs.site_tariffs must have one row per site when the sites have their own prices")
    table = table.copy()
    table.index = table.index.astype(str)
    inputs.site_tariffs = table.loc[sites]


def check_inputs(inputs: PlanInputs, n: int) -> None:
    """Check that every series lies on the snapshots and values are in range; raise ScenarioError if not."""
    idx = inputs.snapshots
    if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
        raise ScenarioError("PlanInputs.snapshots must be a tz-aware pandas DatetimeIndex")
    if inputs.dt_hours <= 0:
        raise ScenarioError(f"PlanInputs.dt_hours must be > 0, got {inputs.dt_hours}")
    series = {
        "pv_kw_per_kw": inputs.pv_kw_per_kw,
        "wind_kw_per_kw": inputs.wind_kw_per_kw,
        "import_price_per_kwh": inputs.import_price_per_kwh,
        "export_price_per_kwh": inputs.export_price_per_kwh,
        "emission_factor_kg_per_kwh": inputs.emission_factor_kg_per_kwh,
        "weight": inputs.weight,
        "period": inputs.period,
        "other_load_kw": inputs.other_load_kw,
    }
    for name, s in series.items():
        if len(s) != n or not s.index.equals(idx):
            raise ScenarioError(f"PlanInputs.{name} is not indexed by the snapshots ({len(s)} vs {n} steps)")
        if s.isna().any():
            first = s.index[s.isna().argmax()]
            raise ScenarioError(f"PlanInputs.{name} has missing values (first at {first})")
    aggregated = inputs.station_available_kw is not None
    for name in ("station_available_kw", "station_trip_energy_kwh", "station_min_energy_kwh"):
        frame = getattr(inputs, name)
        if frame is not None and (not frame.index.equals(idx) or list(frame.columns) != list(inputs.stations.index)):
            raise ScenarioError(f"PlanInputs.{name} must be indexed by the snapshots with one column per station")
    for name in ("plugged", "trip_energy_kwh"):
        frame = getattr(inputs, name)
        if aggregated and frame is None:
            continue
        if not frame.index.equals(idx):
            raise ScenarioError(f"PlanInputs.{name} is not indexed by the snapshots")
        if list(frame.columns) != list(inputs.vehicles.index):
            raise ScenarioError(f"PlanInputs.{name} columns must be the vehicle ids in order")
    unknown = set(inputs.vehicles["station"]) - set(inputs.stations.index)
    if unknown:
        raise ScenarioError(f"vehicles at unknown stations: {sorted(unknown)}")
    if inputs.trip_energy_kwh is not None and not np.isfinite(inputs.trip_energy_kwh.to_numpy(float)).all():
        raise ScenarioError("trip energy must be finite [kWh]")
    if inputs.fleet_mode not in ("vehicle", "station"):
        raise ScenarioError(f"fleet_mode must be 'vehicle' or 'station', got {inputs.fleet_mode!r}")
    if inputs.renewable_share_basis not in ("annual", "hourly"):
        raise ScenarioError(f"renewable_share_basis must be 'annual' or 'hourly', got {inputs.renewable_share_basis!r}")


def station_aggregates(inputs: PlanInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-station charging power available [kW] and trip energy [kWh], snapshots × stations.

    Available power = Σ over the station's vehicles plugged in of their charge limit, capped by
    chargers × charger power. Given frames (``station_available_kw`` …) are returned as they are.
    """
    if inputs.station_available_kw is not None and inputs.station_trip_energy_kwh is not None:
        return inputs.station_available_kw, inputs.station_trip_energy_kwh
    veh = inputs.vehicles
    stations = inputs.stations.index
    onehot = (veh["station"].to_numpy()[:, None] == stations.to_numpy()[None, :]).astype(float)
    plug_kw = inputs.plugged.to_numpy(float) * veh["max_charge_kw"].to_numpy(float)[None, :]
    limit = (inputs.stations["chargers"] * inputs.stations["charger_kw"]).to_numpy(float)
    available = np.minimum(plug_kw @ onehot, limit[None, :])
    trips = inputs.trip_energy_kwh.to_numpy(float) @ onehot
    return (
        pd.DataFrame(available, index=inputs.snapshots, columns=stations),
        pd.DataFrame(trips, index=inputs.snapshots, columns=stations),
    )
