"""chisan compare: several scenarios and [sensitivity] variants, each against business as usual, in one table,
a tornado table and an Excel workbook; the same figures on a local Dask cluster as one after another."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from chisan.cli import app
from chisan.economics.compare import Variant, plan_variant, run_variants, sensitivity_variants, set_field
from chisan.exceptions import ScenarioError
from chisan.plan.pipeline import plan_scenario
from tests.factories import small_scenario, small_scenario_dict

runner = CliRunner()
NO_AGEING = {"finance": {"pv_degradation_per_year_fraction": 0.0}}
SENSITIVITY = {"parameters": [{"field": "technologies.pv.capex_per_kw", "low": 150_000, "high": 250_000}]}


def test_set_field_by_dotted_path():
    data = small_scenario_dict()
    set_field(data, "technologies.pv.capex_per_kw", 1.0)
    set_field(data, "stations.*.vehicles", 2)
    assert data["technologies"]["pv"]["capex_per_kw"] == 1.0
    assert [s["vehicles"] for s in data["stations"]] == [2, 2]
    with pytest.raises(
        ScenarioError, match=r"'technologies.pv.capex_kw': no input 'capex_kw' here; allowed: .*capex_per_kw"
    ):
        set_field(data, "technologies.pv.capex_kw", 1.0)
    with pytest.raises(ScenarioError, match="names a list"):
        set_field(data, "stations", 1.0)


def test_sensitivity_variants_are_the_base_and_each_low_and_high():
    sc = small_scenario(sensitivity=SENSITIVITY)
    variants = sensitivity_variants(sc, name="town")
    assert [(f, side) for f, side, _ in variants] == [
        ("", "base"),
        ("technologies.pv.capex_per_kw", "low"),
        ("technologies.pv.capex_per_kw", "high"),
    ]
    assert [v.scenario.technologies.pv.capex_per_kw for *_, v in variants] == [200_000, 150_000, 250_000]
    assert all(v.scenario.sensitivity is None for *_, v in variants)
    assert variants[1][2].name == "technologies.pv.capex_per_kw = 150000"


def test_compare_writes_one_table_a_tornado_and_a_workbook(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(tomli_w.dumps(small_scenario_dict(sensitivity=SENSITIVITY, **NO_AGEING)), encoding="utf-8")
    b.write_text(
        tomli_w.dumps(small_scenario_dict(grid={"import_price_per_kwh": 40.0, "import_tou": []}, **NO_AGEING)),
        encoding="utf-8",
    )
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(a), str(b), "--out", str(out), "--serial"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv", index_col=0)
    assert list(table.columns) == [
        "unit",
        "a",
        "a: technologies.pv.capex_per_kw = 150000",
        "a: technologies.pv.capex_per_kw = 250000",
        "b",
    ]
    # a second implementation of the same figure: plan a directly
    direct = plan_scenario(small_scenario(**NO_AGEING), method=None, business_as_usual=True)
    assert table.loc["npv", "a"] == pytest.approx(direct.economics.figure("npv"), rel=1e-9)
    # cheaper PV → a cheaper optimal plan against the same business as usual → a higher NPV
    npv = table.loc["npv"]
    assert npv["a: technologies.pv.capex_per_kw = 150000"] > npv["a"] > npv["a: technologies.pv.capex_per_kw = 250000"]
    # grid power at a flat ¥40 instead of ¥21 at night (when business as usual charges): business as usual costs more
    assert table.loc["bau_total_cost_per_year", "b"] > table.loc["bau_total_cost_per_year", "a"]
    tornado = pd.read_csv(out / "sensitivity.csv", index_col=[0, 1, 2])
    assert set(tornado.index.get_level_values("figure")) == {"npv", "cost_per_km", "local_renewable_share_of_charging"}
    row = tornado.loc[("a", "npv", "technologies.pv.capex_per_kw")]
    assert row["base"] == pytest.approx(npv["a"]) and row["swing"] == pytest.approx(abs(row["high"] - row["low"]))
    book = openpyxl.load_workbook(out / "comparison.xlsx", read_only=True)
    assert book.sheetnames == ["key figures", "costs per year", "net cash flows", "sites", "sensitivity"]
    sites = pd.read_excel(out / "comparison.xlsx", sheet_name="sites", index_col=[0, 1])
    assert set(sites.loc["a"].index) == {"Town Hall", "Hospital"}  # each station its own meter
    assert sites.loc["a", "pv_kw"].sum() == pytest.approx(table.loc["pv_kw", "a"], rel=1e-6)
    flows = pd.read_excel(out / "comparison.xlsx", sheet_name="net cash flows", index_col=0)
    assert len(flows) == 26 and flows["a"].sum() == pytest.approx(
        direct.economics.cash_flows["net_jpy"].sum(), rel=1e-9
    )
    assert (out / "tornado.html").read_text(encoding="utf-8").count('class="plotly-graph-div"') == 3
    km = tornado.loc[("a", "cost_per_km", "technologies.pv.capex_per_kw")]
    assert km["low"] < km["base"] < km["high"]  # dearer PV, dearer km
    assert "(NPV)" in result.output  # the label, wrapped by the 80-column test terminal


def test_a_failing_variant_is_reported_and_the_others_kept(tmp_path):
    # the example's 100 % annual renewable target with no PV and no wind allowed: infeasible
    bad = small_scenario(technologies={"pv": {"enabled": False}, "wind": {"enabled": False}})
    results = run_variants([Variant("bad", bad), Variant("ok", small_scenario())], scheduler="synchronous")
    assert results[0].error and "policy" in results[0].error
    assert not results[1].error and np.isfinite(results[1].figures.loc["npv", "value"])
    assert results[0].figures.empty and results[0].cash_flows.empty


def test_variants_on_the_local_dask_cluster_equal_one_after_another():
    variants = [
        Variant("base", small_scenario()),
        Variant("cheap", small_scenario(technologies={"pv": {"capex_per_kw": 150_000}})),
    ]
    parallel = run_variants(variants, n_workers=2)
    serial = [plan_variant(v) for v in variants]
    for p, s in zip(parallel, serial, strict=True):
        assert p.name == s.name and not p.error
        pd.testing.assert_series_equal(p.figures["value"], s.figures["value"], rtol=1e-9)


def test_variants_share_the_solves_their_inputs_allow(monkeypatch):
    # The lease of a car is a cost after the solve (the LP never sees it) and business as usual builds no PV (the
    # price of PV does not change it): 3 variants need 3 solves, not 6, and give what each planned alone gives.
    import chisan.economics.compare as cmp

    calls = []
    real = cmp._solve

    def counting(prepared, variant, method, bau):
        calls.append((variant.name, bau))
        return real(prepared, variant, method, bau)

    monkeypatch.setattr(cmp, "_solve", counting)
    variants = [
        Variant("base", small_scenario()),
        Variant("lease", small_scenario(fleet={"lease_per_vehicle_year": 900_000})),
        Variant("cheap PV", small_scenario(technologies={"pv": {"capex_per_kw": 150_000}})),
    ]
    results = run_variants(variants, scheduler="synchronous")
    assert sorted(calls) == [("base", False), ("base", True), ("cheap PV", False)]
    for v, r in zip(variants[1:], results[1:], strict=True):
        alone = plan_variant(v)
        pd.testing.assert_series_equal(r.figures["value"], alone.figures["value"], rtol=1e-9)
    # the same plan, a dearer lease: the same PV, a higher cost per km
    figures = {r.name: r.figures["value"] for r in results}
    assert figures["lease"]["pv_kw"] == figures["base"]["pv_kw"]
    assert figures["lease"]["cost_per_km"] > figures["base"]["cost_per_km"]


def test_fingerprint_is_of_the_content_not_of_one_pickle():
    # Equal inputs prepared in two worker processes may share objects between fields in one and not in the other;
    # a pickle records the sharing (its memo), so digests of whole pickles differed and the base case was solved
    # twice on the Dask cluster. The content digest is the same for both, and changes with any value.
    import copy
    import dataclasses
    import hashlib
    import pickle
    import warnings

    import chisan.economics.compare as cmp
    from chisan.plan.prepare import prepare_inputs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = prepare_inputs(small_scenario()).inputs
    price = inputs.import_price_per_kwh
    shared = dataclasses.replace(inputs, export_price_per_kwh=price)
    copied = dataclasses.replace(inputs, export_price_per_kwh=price.copy())
    assert hashlib.sha256(pickle.dumps(shared)).digest() != hashlib.sha256(pickle.dumps(copied)).digest()
    assert cmp._fingerprint(shared) == cmp._fingerprint(copied)
    assert cmp._fingerprint(inputs) == cmp._fingerprint(pickle.loads(pickle.dumps(inputs)))
    assert cmp._fingerprint(inputs) == cmp._fingerprint(copy.deepcopy(inputs))
    dearer = price.copy()
    dearer.iloc[100] += 1e-9
    assert cmp._fingerprint(copied) != cmp._fingerprint(dataclasses.replace(copied, export_price_per_kwh=dearer))
    plugged = inputs.plugged.copy()
    plugged.iloc[5, 1] = not plugged.iloc[5, 1]
    assert cmp._fingerprint(inputs) != cmp._fingerprint(dataclasses.replace(inputs, plugged=plugged))


def test_a_variants_shared_business_as_usual_equals_its_fresh_solve():
    # business as usual builds no PV: a PV-price variant shares the base case's BAU solve; that BAU is the one a
    # fresh solve of the variant's own BAU inputs gives, value for value
    import chisan.economics.compare as cmp

    base = Variant("base", small_scenario())
    cheap = Variant("cheap PV", small_scenario(technologies={"pv": {"capex_per_kw": 150_000}}))
    prepared = {v.name: cmp._prepare(v) for v in (base, cheap)}
    keys = {v.name: cmp.solve_keys(prepared[v.name], v, None) for v in (base, cheap)}
    assert keys["base"][1] == keys["cheap PV"][1] and keys["base"][0] != keys["cheap PV"][0]
    shared = cmp._solve(prepared["base"], base, None, True)
    fresh = cmp._solve(prepared["cheap PV"], cheap, None, True)
    assert shared.capacities == fresh.capacities
    assert shared.values.keys() == fresh.values.keys()
    for name, values in fresh.values.items():
        np.testing.assert_array_equal(shared.values[name], values)
