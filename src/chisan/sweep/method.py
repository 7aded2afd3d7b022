"""How a sweep derives each municipality's climate, emission factor and tariff, in words.

One text for two readers: ``chisan sweep --help`` and the "How these figures were derived" section of the
summary (:func:`chisan.sweep.summary.method_html`). Kept free of heavy imports, because the command line reads it
at start-up. The rules themselves are :mod:`chisan.sweep.derive`'s.
"""

from __future__ import annotations

DERIVATION_RULES: tuple[tuple[str, str], ...] = (
    (
        "Climate (--weather)",
        "japan (default): the town's own climate — the typical year of its climate region (the nearest of the "
        "eight representative stations of Japan's energy-efficiency standard, Kitami to Naha), temperature "
        "shifted by the stations' latitude gradient, irradiance scaled to the measured annual GHI of the nearest "
        "NEDO points; the hourly regional years are read from the data folder (--data DIR, default "
        "$CHISAN_DATA), else the bundled monthly means drive chisan's synthetic year; wind is Tokyo's (Hyakuri), "
        "not local. municipality: the template's synthetic (Tokyo) climate moved to the town's sun — the latitude "
        "moves the sun, not the clouds, temperature or wind. template: the template's weather everywhere. Every "
        "row's weather_source says which, and from where.",
    ),
    (
        "Emission factor (--grid-factors)",
        "latest (default): the most recent basic factor in chisan's registry of the service area of the town's "
        "former general electricity utility (prefecture → area; a border town can be moved with area_by_code) — "
        "the year differs by area (FY2013 to FY2024) and every row names it with its source; latest-adjusted: the "
        "same for the adjusted factor. fy2016: the FY2016 "
        "adjusted factors (a secondary copy of the official list); fy2013: the FY2013 basic factors (Ministry of "
        "the Environment). template: the template's factor everywhere.",
    ),
    (
        "Tariff (--prices)",
        "tariff (default): the area's business tariff of chisan's library — low voltage (低圧電力, contract fixed "
        "at the town's installed charging power) below 50 kW of chargers × charger kW, else high voltage "
        "(業務用電力, basic charge on the year's peak demand); each tariff says whether its prices are sourced, "
        "dated or illustrative (10 of the 20 were read in a source: 4 sourced, 6 dated; 10 are illustrative); a "
        "template with its own [grid.tariff] keeps it, and one that keeps a meter per base gets the area price "
        "index instead (the reduced plan bills a basic charge behind one meter only). "
        "area: the template's flat and time-of-use import prices × the area's residential price index relative "
        "to the template's area (a [grid.tariff] of the template is kept unchanged: the index is not applied to "
        "it); template: unchanged. With area and template the export price is the template's everywhere; with "
        "tariff it is the tariff's (TEPCO EP's 8.50 JPY/kWh surplus purchase in every area, illustrative outside "
        "Kanto).",
    ),
    (
        "Meters",
        "each town is screened behind one meter (grid.topology = single_meter), about 6 × faster than a meter per "
        "base; a template that sets grid.topology, [[sites]] or links keeps its meters. chisan plan of a chosen "
        "town gives every base its own meter by default.",
    ),
    (
        "Population",
        "members, bookings, car-sharing bases and fleet in the template's proportions; PV, wind, storage and grid "
        "limits scale with the members.",
    ),
)
"""(what, how) of the derivation, in the words of the command's options."""


def derivation_help() -> str:
    """The rules as paragraphs for ``chisan sweep --help``, their brackets escaped from rich markup ([grid.tariff])."""
    from rich.markup import escape

    return "\n\n".join(escape(f"{what}: {how}") for what, how in DERIVATION_RULES)
