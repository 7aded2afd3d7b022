"""The report's "Car-sharing bases" table lists the bases only; a depot is in its own section."""

from __future__ import annotations

from tests.factories import write_run


def test_the_bases_table_leaves_out_the_delivery_depot(shanghai_month_plan_with_bau, tmp_path):
    run = shanghai_month_plan_with_bau
    html = (write_run(run, tmp_path / "out") / "report.html").read_text(encoding="utf-8")
    start = html.index("<h2>Car-sharing bases")
    table = html[start : html.index("</table>", start)]
    caption = html[html.index("</table>", start) : html.index("</p>", html.index("</table>", start))]
    # the example's five bases (src/chisan/scenario/examples/shanghai_district.toml [[stations]])
    for base in ("District Office", "Metro Station", "Hospital", "Industrial Park", "Shopping Mall"):
        assert f"<td>{base}</td>" in table
    assert "Delivery Depot" not in table
    assert table.count("<tr>") == 1 + 5  # header + five bases
    assert "Delivery Depot" in caption and "depot section" in caption
    assert "Delivery Depot" in run.results.stations.index  # the depot is a station of the plan, left out on purpose
