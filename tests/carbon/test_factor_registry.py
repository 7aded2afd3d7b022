"""The grid-factor registry: look-ups by name and year, clear errors, a source for every entry, the scenario
field that selects a factor, and the report line that names it.

Expected values are the published figures the CSV cites, re-typed here from the pages: Shikoku Electric Power's
FY2023 menu-C factor 0.464 kg CO2/kWh (https://www.yonden.co.jp/energy/environment/topics/2025_04_07.html), the
MOE FY2013 list (https://www.kankyo-business.jp/news/009330.php: TEPCO 0.000530 / 0.000521 t-CO2/kWh, Okinawa
0.000858 / 0.000763) and China's 2022 factors of DESIGN.md §7 (national 0.5366, East China 0.5617, Shanghai
0.5849; Shanghai carbon market 0.42).
"""

from __future__ import annotations

import tomllib

import pytest

from chisan.carbon.factors import (
    CALIBRES,
    area_factor_set,
    area_factors,
    factor_registry,
    factor_set,
    grid_factor,
    grid_factor_names,
)
from chisan.exceptions import ScenarioError
from chisan.report.render import factor_source_text
from chisan.scenario.load import example_path, scenario_from_dict
from chisan.sweep.derive import AREAS, GRID_EMISSION_FACTORS


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JP-shikoku:2023:basic", 0.464),
        ("JP-shikoku:2023:adjusted", 0.464),
        ("JP-shikoku:2021:adjusted", 0.532),
        ("JP-tepco:2013:basic", 0.530),
        ("JP-tepco:2013:adjusted", 0.521),
        ("JP-okinawa:2013:adjusted", 0.763),
        ("JP-kyushu:2022:basic", 0.399),
        ("CN:2022:location", 0.5366),
        ("CN-East:2022:location", 0.5617),
        ("CN-SH:2022:location", 0.5849),
        ("CN-SH:2022:carbon_market", 0.42),
        ("CN-SH:2022:green", 0.0),
        # MEE & NBS 2023 factors as reported by 光明日报 (https://www.163.com/dy/article/KIQVBKCG05567I2C.html)
        ("CN:2023:location", 0.5306),
        ("CN-North:2023:location", 0.6361),
        ("CN-East:2023:location", 0.5500),
        ("CN-South:2023:location", 0.4042),
        ("CN-Southwest:2023:location", 0.2472),
    ],
)
def test_lookup_by_name_and_year(name, value):
    factor = grid_factor(name)
    assert factor.kg_co2_per_kwh == value
    assert factor.name == name


def test_without_a_year_the_latest_is_taken_and_case_does_not_matter():
    # Shikoku: FY2013, FY2021, FY2023 and FY2024 are in the registry → FY2024 (0.457, Yonden 2026-01-23).
    latest = grid_factor("jp-SHIKOKU:basic")
    assert (latest.year, latest.kg_co2_per_kwh) == (2024, 0.457)
    years = sorted(f.year for f in factor_registry() if f.jurisdiction == "JP-shikoku" and f.calibre == "basic")
    assert latest.year == years[-1] and len(years) >= 3


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("JP-tepco:2023:basic", "JP-tepco:2013:basic"),  # TEPCO's FY2023 factor is not sourced: the nearest year
        ("jp-tepco:2013:basc", "JP-tepco:2013:basic"),
        ("CN-SH", "CN-SH:green"),  # the names it begins
        ("CN-SH:2022:location:x", "CN-SH:2022:location"),
    ],
)
def test_unknown_name_suggests_the_closest_three(name, closest):
    with pytest.raises(ScenarioError) as err:
        grid_factor(name)
    text = str(err.value)
    assert text.startswith(f"grid emission factor {name!r}: not in the registry; did you mean {closest!r}")
    assert "JURISDICTION:YEAR:CALIBRE" in text and "grid_factor_names()" in text and "grid_factors.csv" in text
    assert text.split("? ")[0].count("', '") <= 2 and len(text) < 600  # at most three names, not all 89


def test_every_entry_has_a_source_and_a_known_calibre():
    factors = factor_registry()
    assert len(factors) == len(set(grid_factor_names()))  # the key is unique
    for f in factors:
        assert f.calibre in CALIBRES
        assert f.publisher and f.document and f.published, f.name
        # every entry is found by its own name, and its report line names the publisher and the document
        assert grid_factor(f.name) == f
        assert f.publisher in f.source and f.document in f.source and f.name in f.source
        # a URL is given wherever a page was read (the Shanghai notice was not: its row says so)
        assert f.url or "not in the search corpus" in f.note, f.name


def test_fy2013_set_is_the_sweeps_set_for_all_ten_areas():
    assert set(area_factors(2013, "basic")) == set(AREAS)
    assert factor_set("fy2013") == GRID_EMISSION_FACTORS["fy2013"]
    with pytest.raises(ScenarioError, match="allowed: \\['fy2013', 'fy2016', 'latest', 'latest-adjusted'\\]"):
        factor_set("fy2099")


def _example(**grid):
    data = tomllib.loads(example_path().read_text(encoding="utf-8"))
    data["grid"].pop("emission_factor_kg_per_kwh")
    data["grid"].update(grid)
    return scenario_from_dict(data)


def test_scenario_selects_a_factor_by_name_and_the_report_names_its_source():
    sc = _example(emission_factor="JP-shikoku:2023:basic", market_emission_factor="CN-SH:2022:green")
    assert sc.grid.emission_factor_kg_per_kwh == 0.464
    assert sc.grid.market_emission_factor_kg_per_kwh == 0.0
    text = factor_source_text(sc.grid)
    assert "JP-shikoku:2023:basic" in text and "Shikoku Electric Power" in text
    assert "https://www.yonden.co.jp/energy/environment/topics/2025_04_07.html" in text


def test_scenario_refuses_an_unknown_name_and_a_contradicting_number():
    with pytest.raises(ScenarioError) as err:
        _example(emission_factor="JP-tepco:2030:basic")
    text = str(err.value)
    assert "grid.emission_factor = 'JP-tepco:2030:basic': not in the registry; did you mean 'JP-tepco:20" in text
    assert text.count("JP-tepco:2030:basic") == 1
    assert "All 89 names: chisan.carbon.factors.grid_factor_names(), or the jurisdiction, year and calibre" in text
    assert "JP-hokkaido" not in text and len(text) < 600  # three suggestions, not the registry
    with pytest.raises(ScenarioError, match="give one of them"):
        _example(emission_factor="JP-shikoku:2023:basic", emission_factor_kg_per_kwh=0.5)
    with pytest.raises(ScenarioError, match="emission_factor_path both set"):
        _example(emission_factor="JP-shikoku:2023:basic", emission_factor_path="factors.csv")
    # the same number twice (a scenario written back by model_dump) is accepted
    assert _example(emission_factor="JP-shikoku:2023:basic", emission_factor_kg_per_kwh=0.464).grid.emission_factor


def test_old_scenarios_with_a_number_still_work():
    sc = _example(emission_factor_kg_per_kwh=0.4535)
    assert sc.grid.emission_factor is None and sc.grid.emission_factor_kg_per_kwh == 0.4535
    assert factor_source_text(sc.grid) == "constant"


def test_every_named_set_covers_all_ten_areas_and_latest_takes_each_areas_newest_year():
    for name in ("fy2013", "fy2016", "latest", "latest-adjusted"):
        assert set(factor_set(name)) == set(AREAS), name
    latest = area_factor_set("latest")
    # newest basic factors read (grid_factors.csv): Shikoku FY2024 0.457, Kyushu FY2022 0.399, Hokkaido FY2020 0.565
    assert latest["shikoku"].name == "JP-shikoku:2024:basic" and latest["shikoku"].kg_co2_per_kwh == 0.457
    assert latest["kyushu"].name == "JP-kyushu:2022:basic" and latest["kyushu"].kg_co2_per_kwh == 0.399
    assert latest["hokkaido"].name == "JP-hokkaido:2020:basic" and latest["hokkaido"].kg_co2_per_kwh == 0.565
    for area, f in latest.items():  # no area has a newer basic factor in the registry than the one chosen
        newer = [g for g in factor_registry() if g.jurisdiction == f"JP-{area}" and g.calibre == "basic"]
        assert f.year == max(g.year for g in newer)
    assert area_factor_set("latest-adjusted")["hokuriku"].name == "JP-hokuriku:2023:adjusted"
    # the FY2016 adjusted list agrees with Kansai's own FY2016 press release (0.493) — the reason for its calibre
    assert factor_set("fy2016")["kansai"] == 0.493


def test_china_2023_factors_are_the_latest_and_agree_with_the_reported_changes_from_2022():
    # Without a year the newest is taken: 2023 for the national grid and the regions, 2022 for Shanghai (the 2023
    # provincial table was not read).
    assert grid_factor("CN:location").name == "CN:2023:location"
    assert grid_factor("CN-East:location").name == "CN-East:2023:location"
    assert grid_factor("CN-SH:location").name == "CN-SH:2022:location"
    # The report gives the change from 2022 in per cent (one decimal): national −1.1 %, East China −2.1 %.
    # Recomputed from the two years in the registry, by hand: (0.5366 − 0.5306)/0.5366 = 1.12 %,
    # (0.5617 − 0.5500)/0.5617 = 2.08 %; both round to the published figures, so the rows are not mixed up.
    for jur, published_pct in (("CN", 1.1), ("CN-East", 2.1)):
        old = grid_factor(f"{jur}:2022:location").kg_co2_per_kwh
        new = grid_factor(f"{jur}:2023:location").kg_co2_per_kwh
        assert round(100 * (old - new) / old, 1) == published_pct, jur
    regions = [
        f for f in factor_registry() if f.year == 2023 and f.calibre == "location" and f.jurisdiction.startswith("CN-")
    ]
    assert len(regions) == 7  # the seven grid regions of the announcement


# The Chinese factors of 2021 and the regional factors of 2022 (issue 13), read second-hand. The 2021 regions and
# Shanghai: in the public repository felix0220170/ghg-accounting (src/config/emissionConstants.js, commit c486077;
# regions given there in t CO2/kWh, e.g. 0.0007120 = 0.7120 kg CO2/kWh). The 2022 regions: in 新京报's report of
# the 2022 announcement (reprinted at https://daydaynews.cc/zh-hant/finance/3899452.html): "华北的因子最高，为0.6776，
# 西南最低，为0.2268。西北、华东、东北、华中、南方依次为0.5857、0.5617、0.5564、0.5395、0.3869", the same values as
# the repository. Values re-typed here from those texts.
SECOND_HAND_URL = (
    "https://github.com/felix0220170/ghg-accounting/blob/c48607728f0f105392b2d389b9aed2e6e6760c5a/"
    "src/config/emissionConstants.js"
)
XJB_2022_URL = "https://daydaynews.cc/zh-hant/finance/3899452.html"


@pytest.mark.parametrize(
    ("name", "value", "document", "copy"),
    [
        ("CN-North:2021:location", 0.7120, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-Northeast:2021:location", 0.6012, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-East:2021:location", 0.5992, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-Central:2021:location", 0.5354, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-Northwest:2021:location", 0.5951, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-South:2021:location", 0.4326, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-Southwest:2021:location", 0.2113, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-SH:2021:location", 0.5834, "关于发布2021年电力二氧化碳排放因子的公告", SECOND_HAND_URL),
        ("CN-North:2022:location", 0.6776, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-Northeast:2022:location", 0.5564, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-Central:2022:location", 0.5395, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-Northwest:2022:location", 0.5857, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-South:2022:location", 0.3869, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-Southwest:2022:location", 0.2268, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN-East:2022:location", 0.5617, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
        ("CN:2022:location", 0.5366, "关于发布2022年电力二氧化碳排放因子的公告", XJB_2022_URL),
    ],
)
def test_second_hand_chinese_factors_by_name_and_year_name_both_sources(name, value, document, copy):
    factor = grid_factor(name)
    assert (factor.name, factor.kg_co2_per_kwh) == (name, value)
    # the report line names the publisher's document and the copy it was read in, and says second-hand
    assert document in factor.source and copy in factor.source and "second-hand" in factor.source
    assert "Ministry of Ecology and Environment" in factor.source
    assert factor.note.startswith("SECOND-HAND") and factor.second_hand
    assert factor.published == ("2024-04-12" if factor.year == 2021 else "2024-12-20")
    # the two copies agree: the repository's file is named in every 2022 regional row's note too
    if factor.year == 2022 and factor.jurisdiction not in ("CN", "CN-East"):
        assert "felix0220170/ghg-accounting" in factor.note


def test_the_2022_report_reproduces_the_national_change_and_the_southern_fall():
    # 新京报: 2022's 0.5366 "比2021年的0.5568降低0.0202，降幅3.6%"; a second report (m.zhangwenkingh.cn, cited in the
    # CN-South 2021 row) gives the Southern region's fall as 0.0457 kg CO2/kWh. By hand: 0.5568 − 0.5366 = 0.0202,
    # 0.0202/0.5568 = 3.63 %; 0.4326 − 0.3869 = 0.0457 (the 2021 row is the repository's, the 2022 row the report's).
    old, new = grid_factor("CN:2021:location").kg_co2_per_kwh, grid_factor("CN:2022:location").kg_co2_per_kwh
    assert round(old - new, 4) == 0.0202 and round(100 * (old - new) / old, 1) == 3.6
    south = grid_factor("CN-South:2021:location").kg_co2_per_kwh - grid_factor("CN-South:2022:location").kg_co2_per_kwh
    assert round(south, 4) == 0.0457


def test_rows_read_in_the_publishers_words_are_not_called_second_hand():
    for name in ("JP-shikoku:2023:basic", "JP-kyushu:2022:basic", "CN-SH:2023:carbon_market"):
        f = grid_factor(name)
        assert not f.second_hand and "second-hand" not in f.source, name


def test_second_hand_2022_regional_factors_reproduce_the_published_changes_to_2023():
    # 光明日报's report of the 2023 factors (the 2023 rows' notes) gives each region's change from 2022 in per cent,
    # one decimal, computed from unrounded factors. From the registry's 4-decimal rows, by hand, e.g. North:
    # (0.6361 − 0.6776)/0.6776 = −6.12 % → −6.1; Northeast (0.5122 − 0.5564)/0.5564 = −7.94 % against −8.0, inside
    # the bound: 0.05 (the report's rounding) + 100·0.00005·(1/old + new/old²) (the rows' rounding) ≈ 0.067.
    published_pct = {
        "CN-North": -6.1,
        "CN-Northeast": -8.0,
        "CN-Central": -2.3,
        "CN-Northwest": -5.4,
        "CN-South": 4.5,
        "CN-Southwest": 9.0,
    }
    for jur, pct in published_pct.items():
        old = grid_factor(f"{jur}:2022:location").kg_co2_per_kwh
        new = grid_factor(f"{jur}:2023:location").kg_co2_per_kwh
        bound = 0.05 + 100 * 0.00005 * (1 / old + new / old**2)
        assert abs(100 * (new - old) / old - pct) <= bound, jur
    # with a digit mistyped the check fails: North 0.6676 instead of 0.6776 gives −4.7 %
    assert abs(100 * (0.6361 - 0.6676) / 0.6676 - published_pct["CN-North"]) > 1.0
    # all seven regions now have 2021, 2022 and 2023 rows, and the newest is still 2023
    for jur in ("CN-North", "CN-Northeast", "CN-East", "CN-Central", "CN-Northwest", "CN-South", "CN-Southwest"):
        years = sorted(f.year for f in factor_registry() if f.jurisdiction == jur and f.calibre == "location")
        assert years == [2021, 2022, 2023], jur
        assert grid_factor(f"{jur}:location").year == 2023


def test_a_row_shifted_by_an_unquoted_comma_is_refused_by_name():
    # The FY2016 rows once had an unquoted comma in their document field: every later field moved one column
    # right (the URL read as the publication date) without an error. Such a row is now refused.
    from chisan.carbon.factors import parse_factor_table
    from chisan.exceptions import DataError

    header = "jurisdiction,year,calibre,kg_co2_per_kwh,publisher,document,url,published,note"
    good = f'{header}\nJP-tepco,2016,adjusted,0.474,MOE,"list (copy, quoting MOE)",https://x.example,2017-12,n\n'
    (factor,) = parse_factor_table(good)
    assert factor.document == "list (copy, quoting MOE)"
    assert (factor.url, factor.published) == ("https://x.example", "2017-12")
    bad = good.replace('"list (copy, quoting MOE)"', "list (copy, quoting MOE)")
    with pytest.raises(DataError, match=r"row 2 \(JP-tepco:2016:adjusted\) has more or fewer fields than the header"):
        parse_factor_table(bad)
    # the bundled FY2016 rows read their URL and date where they belong
    tepco = grid_factor("JP-tepco:2016:adjusted")
    assert tepco.url == "https://denki.k-server.info/co2_haishutsu_keisuu/" and tepco.published == "2017-12"
