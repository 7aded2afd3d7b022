"""The sweep summary's national picture: prefecture outlines, every town on the map, human labels, and the
"how these figures were derived" section (climate, emission factor, tariff per town; the same rules in --help)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from chisan.cli import app
from chisan.exceptions import DataError
from chisan.sweep.derive import DeriveOptions, derivation_facts, derive_scenario
from chisan.sweep.method import DERIVATION_RULES
from chisan.sweep.summary import (
    MAP_ATTRIBUTION,
    cost_per_km_figure,
    human_label,
    kpi_map,
    prefecture_map_path,
    read_topojson_arcs,
    write_summary,
)

SNAKE = re.compile(r"[a-z0-9]+_[a-z0-9_]+")


@pytest.fixture(scope="module")
def topojson(shared_data: Path) -> Path:
    return shared_data / "maps" / "japan_prefectures.topojson"


@pytest.fixture(scope="module")
def results(municipalities) -> pd.DataFrame:
    """A results table of 40 real municipalities: 37 planned with a cost per km, one without, two failed."""
    sample = municipalities.sample(n=40, random_state=3)
    rows = sample.reset_index()[["code", "name", "prefecture", "population", "latitude_deg", "longitude_deg"]]
    rng = np.random.default_rng(0)
    rows["status"] = "ok"
    rows.loc[[5, 17], "status"] = "failed"
    rows["cost_jpy_per_km"] = rng.uniform(40.0, 90.0, len(rows))
    rows.loc[0, "cost_jpy_per_km"] = 2_000.0  # a far outlier: must still be in the histogram and on the map
    rows.loc[[5, 17, 30], "cost_jpy_per_km"] = np.nan
    rows["energy_cost_jpy_per_km"] = rows["cost_jpy_per_km"] / 4.0
    rows["km_per_year"] = rows["population"] * 3.0
    rows["total_cost_jpy_per_year"] = rows["cost_jpy_per_km"] * rows["km_per_year"]
    rows["renewable_share_annual_fraction"] = 1.0
    rows["weather_source"] = [f"climate text of {c}" for c in rows["code"]]
    rows["grid_factor_source"] = [f"factor text of {c}" for c in rows["code"]]
    rows["tariff_source"] = [f"tariff text of {c}" for c in rows["code"]]
    rows.loc[[5, 17], ["weather_source", "grid_factor_source", "tariff_source"]] = np.nan
    return rows


def test_topojson_arcs_are_decoded_by_the_specification(tmp_path):
    # quantized, delta-encoded: positions (0,0), (1,2), (1+3, 2−1) = (4,1); × scale + translate
    topo = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [100.0, 30.0]},
        "objects": {},
        "arcs": [[[0, 0], [1, 2], [3, -1]], [[2, 2], [0, 4]]],
    }
    path = tmp_path / "t.topojson"
    path.write_text(json.dumps(topo))
    arcs = read_topojson_arcs(path)
    np.testing.assert_allclose(arcs[0], [[100.0, 30.0], [100.5, 30.5], [102.0, 30.25]])
    np.testing.assert_allclose(arcs[1], [[101.0, 30.5], [101.0, 31.5]])
    path.write_text("{}")
    with pytest.raises(DataError, match="not a readable TopoJSON"):
        read_topojson_arcs(path)


def test_the_prefecture_file_lies_over_japan(topojson, shared_data):
    arcs = read_topojson_arcs(topojson)
    xy = np.concatenate(arcs)
    assert len(arcs) == 1107  # the file's arcs (47 prefectures, shared borders once)
    # Yonaguni's west cape 122.93° E, Minamitorishima 153.99° E; Hateruma 24.05° N, Bentenjima off Sōya 45.52° N
    # (Okinotorishima, 20.4° N, is not in the file)
    assert 122.9 < xy[:, 0].min() < 123.0 and 153.9 < xy[:, 0].max() < 154.1
    assert 24.0 < xy[:, 1].min() < 24.1 and 45.5 < xy[:, 1].max() < 45.6
    assert prefecture_map_path(shared_data) == topojson
    assert prefecture_map_path(shared_data / "maps") is None  # a folder without the file: no outlines


def test_map_draws_outlines_and_every_municipality(results, topojson):
    fig = kpi_map(results, "cost_jpy_per_km", outlines=topojson)
    outline = [t for t in fig.data if t.name == "prefecture outlines"]
    assert len(outline) == 1 and outline[0].mode == "lines"
    n_points = sum(len(a) for a in read_topojson_arcs(topojson))
    assert len(outline[0].x) == n_points + 1107  # every arc, each followed by a gap
    drawn = " ".join(t for tr in fig.data if tr.mode == "markers" for t in tr.text)
    for name in results["name"]:
        assert json.dumps(str(name))[1:-1] in json.dumps(drawn), name
    markers = sum(len(tr.x) for tr in fig.data if tr.mode == "markers")
    assert markers == len(results) == 40  # the failed and the one without a value too (grey)
    assert MAP_ATTRIBUTION in fig.layout.annotations[0].text


def test_map_without_outlines_says_so(results):
    fig = kpi_map(results, "cost_jpy_per_km")
    assert not [t for t in fig.data if t.name == "prefecture outlines"]
    assert "No prefecture outlines" in fig.layout.annotations[0].text


def test_labels_are_human(results, topojson):
    assert human_label("storage_kw") == "storage power [kW]"  # SUMMED's label
    assert human_label("unserved_bookings_fraction") == "unserved bookings [%]"
    assert human_label("co2_avoided_kg_per_year") == "CO2 avoided [kg CO2e/year]"
    assert human_label("pv_self_consumed_kwh") == "PV self consumed [kWh]"
    fig = kpi_map(results, "renewable_share_annual_fraction", outlines=topojson)
    texts = [
        fig.layout.title.text,
        fig.layout.xaxis.title.text,
        fig.layout.yaxis.title.text,
        fig.data[1].marker.colorbar.title.text,
    ]
    for text in texts:
        assert not SNAKE.search(text), text
    assert "[%]" in fig.layout.title.text
    assert fig.data[1].marker.color.max() == pytest.approx(100.0)  # fractions shown in %


def test_histogram_hides_no_town(results):
    fig = cost_per_km_figure(results, "cost_jpy_per_km")
    hist = fig.data[0]
    values = results.loc[results["status"] == "ok", "cost_jpy_per_km"].dropna()
    assert len(hist.x) == len(values) == 37
    assert hist.xbins.start <= values.min() and hist.xbins.end > values.max() == 2_000.0
    assert fig.layout.xaxis.range[1] > 2_000.0  # the outlier is inside the axis
    assert "not shown" not in fig.layout.title.text and not SNAKE.search(fig.layout.title.text)


def test_summary_states_how_each_town_was_derived(results, tmp_path, shared_data):
    report = write_summary(results, tmp_path, data_dir=shared_data).read_text(encoding="utf-8")
    assert "How these figures were derived" in report
    assert "location → sun and climate" not in report  # the old claim, true only of no setting
    for _, row in results[results["status"] == "ok"].iterrows():
        for col in ("weather_source", "grid_factor_source", "tariff_source"):
            assert row[col] in report, (row["code"], col)
    assert report.count("– (failed: see the list at the end)") == 2
    for what, _ in DERIVATION_RULES:
        assert what in report
    assert MAP_ATTRIBUTION in report  # the outlines are in the file: so is their source


def test_derivation_facts_say_where_the_climate_comes_from(template, municipalities):
    code = "012092"  # Yūbari, Hokkaido: climate region 2 (Iwamizawa, 30 km away)
    row = municipalities.loc[code].to_dict()
    old = DeriveOptions(grid_factors="fy2013", prices="area")  # the default is latest + tariff (test_area_prices)
    own = derivation_facts(template, derive_scenario(template, code, row, old), old)
    assert "region 2 (Iwamizawa)" in own["weather_source"]
    assert own["grid_factor_source"] == "fy2013 basic factor of the hokkaido area: 0.678 kg CO2/kWh"
    # 28.0 JPY/kWh × 30.26 / 26.48 (Hokkaido's price index over TEPCO's) = 32.00 JPY/kWh
    assert own["tariff_source"].startswith("import 32.00 JPY/kWh; time-of-use 00–08 h 24.00")
    options = DeriveOptions(weather="municipality")
    tokyo = derivation_facts(template, derive_scenario(template, code, row, options), options)
    assert "synthetic tokyo climate" in tokyo["weather_source"] and "not the local climate" in tokyo["weather_source"]


def test_help_states_the_derivation():
    result = CliRunner().invoke(app, ["sweep", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for what, how in DERIVATION_RULES:
        assert what in text
        assert " ".join(how.split())[:60] in text
    assert "japan (default)" in text
