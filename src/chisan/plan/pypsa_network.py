"""The same planning problem as a PyPSA network, for users who work in PyPSA and as a second implementation.

:func:`to_pypsa` writes a :class:`~chisan.plan.inputs.PlanInputs` (chronological, per vehicle) as PyPSA
components, and :func:`pypsa_extra_functionality` adds the rows PyPSA has no component for. Solving the network
gives the same optimum as :func:`chisan.plan.model.build_model` (tested to 1e-4 relative); it is also what
``benchmarks/bench_plan.py`` times chisan against.

Mapping (PyPSA 1.x component names):

- town bus ``town``; PV and wind: extendable ``Generator`` with ``p_max_pu`` = output per kW and ``capital_cost``
  = annualised cost per kW;
- grid: ``Generator`` ``grid_import`` (marginal cost = import price + carbon price × factor) and ``grid_export``
  (``p_min_pu = -1``, ``p_max_pu = 0``, marginal cost = export price, so exporting earns it);
- stationary storage: ``Store`` on bus ``storage`` + charger and discharger ``Link``\\ s; the discharger's rating is
  tied to the charger's so both carry at most P on the town side, and P ≤ c-rate × E (extra functionality);
- each vehicle: bus ``ev:<id>``, ``Store`` (energy between reserve and usable, cyclic, ``marginal_cost_storage`` =
  holding cost), charger ``Link`` from ``town`` with ``p_max_pu`` = plugged-in mask and efficiency η, optional V2G
  ``Link`` back, and a ``Load`` taking the trip energy in the step a booking starts;
- snapshot weightings: objective = w_t Δt × annualisation, stores = Δt;
- policy targets: extra functionality on the same terms as chisan's ``Policy-*`` rows.
- hydrogen (``inputs.hydrogen``): :func:`chisan.plan.hydrogen.add_hydrogen_to_pypsa` (electrolyser and compressor
  as one ``Link`` with ``bus2``, ``Store`` for the station's store and each vehicle's tank);
- metered sites (``inputs.sites``): one bus ``site:<name>`` per site instead of ``town``, each with its own PV
  generator (``p_nom_max`` = roof limit), grid import/export generators and other load; a vehicle's charger hangs
  on its station's site bus, storage and wind on theirs; a private line or self-wheeling is a pair of one-way
  ``Link``\\ s with the fee as marginal cost (PyPSA's Link, as DESIGN.md §14 maps it); stationary storage as
  one Store ``storage:<site>`` with its charger and discharger per storage site, the town's capacity bounds on
  the sum (extra functionality).

PyPSA is not a dependency of chisan; install it to use this module (``pip install pypsa``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chisan.plan.inputs import PlanInputs

BIG_KW = 1e7
"""Rating of the grid generators when the connection is unlimited [kW]."""


def to_pypsa(inputs: PlanInputs):
    """Build the PyPSA network of ``inputs`` (capacities extendable or fixed as in ``inputs.capacities``).

    Units: PyPSA is unit-agnostic; kW and kWh are used throughout, money in the inputs' currency.
    """
    import pypsa

    if inputs.fleet_mode != "vehicle" or inputs.period_order is not None or inputs.initial_energy_kwh is not None:
        raise ValueError("to_pypsa supports chronological, cyclic, per-vehicle inputs")
    n = pypsa.Network()
    snaps = pd.DatetimeIndex(inputs.snapshots.tz_convert(None))
    n.set_snapshots(snaps)
    w = inputs.weight.to_numpy(float) * inputs.dt_hours
    n.snapshot_weightings.loc[:, "objective"] = w * inputs.opex_scale
    n.snapshot_weightings.loc[:, "generators"] = w
    n.snapshot_weightings.loc[:, "stores"] = inputs.dt_hours
    sites = list(inputs.sites.index.astype(str)) if inputs.per_site else []

    def bus_of(site: str | None) -> str:
        return f"site:{site}" if inputs.per_site else "town"

    for bus in [bus_of(x) for x in sites] or ["town"]:
        n.add("Bus", bus)

    def series(s) -> pd.Series:
        return pd.Series(np.asarray(s, dtype=float), index=snaps)

    pv_cap = inputs.capacities["pv_kw"]
    if inputs.per_site and pv_cap.enabled:
        fixed = inputs.site_pv_fixed_kw
        for site in sites:
            roof = float(inputs.sites.at[site, "pv_max_kw"])
            n.add(
                "Generator",
                f"pv:{site}",
                bus=bus_of(site),
                p_nom_extendable=fixed is None,
                p_nom=0.0 if fixed is None else float(fixed[site]),
                p_nom_max=roof if np.isfinite(roof) else np.inf,
                capital_cost=pv_cap.annual_cost_per_unit,
                p_max_pu=series(inputs.pv_kw_per_kw),
            )
    for tech, name, cf in (("pv_kw", "pv", inputs.pv_kw_per_kw), ("wind_kw", "wind", inputs.wind_kw_per_kw)):
        cap = inputs.capacities[tech]
        if not cap.enabled or (tech == "pv_kw" and inputs.per_site):
            continue
        n.add(
            "Generator",
            name,
            bus=bus_of(inputs.wind_site),
            p_nom_extendable=cap.lower != cap.upper,
            p_nom=cap.lower,
            p_nom_min=cap.lower,
            p_nom_max=cap.upper,
            capital_cost=cap.annual_cost_per_unit,
            p_max_pu=series(cf),
        )
    limit = inputs.grid_connection_limit_kw or BIG_KW
    import_cost = (
        inputs.import_price_per_kwh.to_numpy(float)
        + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
        + inputs.import_penalty_per_kwh
    )
    meters = sites or [None]
    for site in meters:
        suffix = "" if site is None else f":{site}"
        export_price = inputs.export_price_per_kwh
        if site is not None and inputs.site_priced:  # the meter's own tariff (sites.tariff): its own prices
            import_cost = (
                inputs.site_import_price_per_kwh[site].to_numpy(float)
                + inputs.carbon_price_per_kg * inputs.emission_factor_kg_per_kwh.to_numpy(float)
                + inputs.import_penalty_per_kwh
            )
            export_price = inputs.site_export_price_per_kwh[site]
        site_limit = limit
        if site is not None and np.isfinite(inputs.sites.at[site, "connection_limit_kw"]):
            site_limit = float(inputs.sites.at[site, "connection_limit_kw"])
        n.add(
            "Generator", f"grid_import{suffix}", bus=bus_of(site), p_nom=site_limit, marginal_cost=series(import_cost)
        )
        if inputs.allow_export:
            n.add(
                "Generator",
                f"grid_export{suffix}",
                bus=bus_of(site),
                p_nom=site_limit,
                p_min_pu=-1.0,
                p_max_pu=0.0,
                marginal_cost=series(export_price),
            )
        load = inputs.other_load_kw if site is None else inputs.site_other_load_kw[site]
        if load.abs().sum() > 0:
            n.add("Load", f"other_load{suffix}", bus=bus_of(site), p_set=series(load))
    if inputs.per_site and inputs.links is not None:
        for name, link in inputs.links.iterrows():
            for direction, a, b in (
                ("forward", link["site0"], link["site1"]),
                ("backward", link["site1"], link["site0"]),
            ):
                lim = float(link["limit_kw"]) if np.isfinite(link["limit_kw"]) else BIG_KW
                n.add(
                    "Link",
                    f"line:{name}:{direction}",
                    bus0=bus_of(a),
                    bus1=bus_of(b),
                    p_nom=lim,
                    marginal_cost=float(link["fee_per_kwh"]),
                )
    e_cap, p_cap = inputs.capacities["storage_kwh"], inputs.capacities["storage_kw"]
    if e_cap.enabled and p_cap.enabled:
        for site in list(inputs.storage_sites) if inputs.per_site else [None]:
            _add_storage(n, inputs, site, bus_of(site))
    veh = inputs.vehicles
    plugged = inputs.plugged.to_numpy(float)
    trips = inputs.trip_energy_kwh.to_numpy(float)
    station_site = inputs.stations["site"].astype(str) if inputs.per_site else None
    for j, vid in enumerate(veh.index):
        row = veh.loc[vid]
        home = bus_of(None if station_site is None else station_site[str(row["station"])])
        bus = f"ev:{vid}"
        n.add("Bus", bus)
        n.add(
            "Store",
            f"battery:{vid}",
            bus=bus,
            e_nom=row["usable_kwh"],
            e_min_pu=row["reserve_kwh"] / row["usable_kwh"],
            e_cyclic=True,
            marginal_cost_storage=inputs.vehicle_holding_cost_per_kwh_h,
        )
        n.add(
            "Link",
            f"charger:{vid}",
            bus0=home,
            bus1=bus,
            efficiency=row["charge_efficiency"],
            p_nom=row["max_charge_kw"],
            p_max_pu=series(plugged[:, j]),
        )
        if inputs.v2g:
            # V2G: p0 taken from the battery, η·p0 delivered; chisan limits the town side to max_charge_kw
            n.add(
                "Link",
                f"v2g:{vid}",
                bus0=bus,
                bus1=home,
                efficiency=row["charge_efficiency"],
                p_nom=row["max_charge_kw"] / row["charge_efficiency"],
                p_max_pu=series(plugged[:, j]),
                marginal_cost=inputs.v2g_cost_per_kwh * row["charge_efficiency"],
            )
        if trips[:, j].any():
            n.add("Load", f"trips:{vid}", bus=bus, p_set=series(trips[:, j] / inputs.dt_hours))
    if inputs.hydrogen is not None:  # the hydrogen station at its site (chisan.plan.hydrogen)
        from chisan.plan.hydrogen import add_hydrogen_to_pypsa

        add_hydrogen_to_pypsa(n, inputs, bus_of(inputs.hydrogen.site))
    n.sanitize()  # declares the carriers the components use (PyPSA warns about undeclared ones otherwise)
    return n


def _storage_names(site: str | None) -> tuple[str, str, str]:
    """Names of the store, its charger and its discharger (``storage``… with one meter, ``storage:<site>``…)."""
    suffix = "" if site is None else f":{site}"
    return f"storage{suffix}", f"storage_charger{suffix}", f"storage_discharger{suffix}"


def _add_storage(n, inputs: PlanInputs, site: str | None, home: str) -> None:
    """Stationary storage as a Store on its own bus with a charger and a discharger Link from ``home``.

    With metered sites, one per storage site: its energy bounded by the site's ``storage_max_kwh`` (or fixed at
    ``site_storage_fixed_kwh``), the town's capacity bounds applied to the sum in extra functionality.
    """
    e_cap, p_cap = inputs.capacities["storage_kwh"], inputs.capacities["storage_kw"]
    store, charger, discharger = _storage_names(site)
    e_lo, e_hi, p_lo, p_hi = e_cap.lower, e_cap.upper, p_cap.lower, p_cap.upper
    if site is not None:
        fixed_e, fixed_p = inputs.site_storage_fixed_kwh, inputs.site_storage_fixed_kw
        if fixed_e is not None and fixed_p is not None:
            e_lo = e_hi = float(fixed_e.get(site, 0.0))
            p_lo = p_hi = float(fixed_p.get(site, 0.0))
        elif len(inputs.storage_sites) > 1 or e_lo != e_hi:
            e_lo, p_lo, p_hi = 0.0, 0.0, np.inf
            e_hi = min(float(inputs.sites.at[site, "storage_max_kwh"]), e_cap.upper)
    n.add("Bus", store)
    n.add(
        "Store",
        store,
        bus=store,
        e_nom_extendable=e_lo != e_hi,
        e_nom=e_lo,
        e_nom_min=e_lo,
        e_nom_max=e_hi,
        capital_cost=e_cap.annual_cost_per_unit,
        e_cyclic=True,
        standing_loss=inputs.storage_self_discharge_per_hour,
    )
    n.add(
        "Link",
        charger,
        bus0=home,
        bus1=store,
        efficiency=inputs.storage_charge_efficiency,
        p_nom_extendable=p_lo != p_hi,
        p_nom=p_lo,
        p_nom_min=p_lo,
        p_nom_max=p_hi,
        capital_cost=p_cap.annual_cost_per_unit,
    )
    n.add(
        "Link",
        discharger,
        bus0=store,
        bus1=home,
        efficiency=inputs.storage_discharge_efficiency,
        p_nom_extendable=True,
    )


def pypsa_extra_functionality(inputs: PlanInputs):
    """The rows PyPSA has no component for: storage ratings, station limits, policy targets (a callable for
    ``Network.optimize(extra_functionality=...)``)."""

    def extra(n, snapshots) -> None:
        m = n.model
        links = n.links.index
        stores = list(inputs.storage_sites) if inputs.per_site else [None]
        extendable_links = n.links.index[n.links.p_nom_extendable]
        extendable_stores = n.stores.index[n.stores.e_nom_extendable]
        chargers, e_noms = [], []
        for site in stores:
            store, name, dis = _storage_names(site)
            if name not in links:
                continue
            p_nom = m.variables["Link-p_nom"]
            charger = p_nom.sel(name=name) if name in extendable_links else n.links.at[name, "p_nom"]
            discharger = p_nom.sel(name=dis)
            m.add_constraints(
                discharger * inputs.storage_discharge_efficiency - charger == 0, name=f"storage-power_tie{store[7:]}"
            )
            if store in extendable_stores:
                e_nom = m.variables["Store-e_nom"].sel(name=store)
                m.add_constraints(
                    charger - inputs.storage_max_c_rate_per_h * e_nom <= 0, name=f"storage-c_rate{store[7:]}"
                )
                chargers.append(name)
                e_noms.append(store)
        if inputs.per_site and e_noms:  # the town's capacity bounds on the sum over sites
            for names, var, cap in (
                (e_noms, "Store-e_nom", inputs.capacities["storage_kwh"]),
                (chargers, "Link-p_nom", inputs.capacities["storage_kw"]),
            ):
                total = m.variables[var].sel(name=names).sum("name")
                if cap.lower > 0:
                    m.add_constraints(total >= cap.lower, name=f"{var}-storage_total_min")
                if np.isfinite(cap.upper):
                    m.add_constraints(total <= cap.upper, name=f"{var}-storage_total_max")
        site_pv = [g for g in n.generators.index[n.generators.p_nom_extendable] if g.startswith("pv:")]
        pv_cap = inputs.capacities["pv_kw"]
        if site_pv and (pv_cap.lower > 0 or np.isfinite(pv_cap.upper)):  # bounds of the town's PV total
            total = m.variables["Generator-p_nom"].sel(name=site_pv).sum("name")
            if pv_cap.lower > 0:
                m.add_constraints(total >= pv_cap.lower, name="pv-total_min")
            if np.isfinite(pv_cap.upper):
                m.add_constraints(total <= pv_cap.upper, name="pv-total_max")
        w = pd.Series(inputs.weight.to_numpy(float) * inputs.dt_hours, index=n.snapshots)
        chargers = [f"charger:{v}" for v in inputs.vehicles.index]
        charging = (m.variables["Link-p"].sel(name=chargers).sum("name") * w).sum()
        if "electrolyser" in links:  # its electricity, compressor included, is load too
            electrolyser = m.variables["Link-p"].sel(name="electrolyser")
            charging = charging + inputs.hydrogen.electricity_per_kw * (electrolyser * w).sum()
        other_kwh = float((inputs.other_load_kw.to_numpy(float) * w.to_numpy()).sum())
        imports = [g for g in n.generators.index if g.startswith("grid_import")]
        imp = (m.variables["Generator-p"].sel(name=imports).sum("name") * w).sum()
        target = inputs.renewable_share_min
        if target:
            if inputs.renewable_share_basis == "annual":
                res = [g for g in n.generators.index if g == "wind" or g == "pv" or g.startswith("pv:")]
                out = (m.variables["Generator-p"].sel(name=res).sum("name") * w).sum()
                m.add_constraints(out - target * charging >= target * other_kwh, name="policy-renewable_share")
            else:
                m.add_constraints(
                    imp - (1 - target) * charging <= (1 - target) * other_kwh, name="policy-renewable_share"
                )
        if inputs.max_grid_import_kwh is not None:
            m.add_constraints(inputs.opex_scale * imp <= inputs.max_grid_import_kwh, name="policy-grid_import")

    return extra
