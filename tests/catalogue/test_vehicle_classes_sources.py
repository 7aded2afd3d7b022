"""Depot vehicle classes against published figures (issue 14 point 1): what each class's source cites."""

from __future__ import annotations

from chisan.catalogue.vehicle_classes import vehicle_class, vehicle_classes


def test_tractor_consumption_lies_in_the_measured_band_of_european_fleets():
    # ICCT (2025-08-06), 91 battery-electric tractor-trailers above 30 t of the European Clean Trucking Alliance:
    # 92-150 kWh/100 km by use case (reported by naturenews.africa, cited in the row). The class's 1.12 kWh/km
    # (NREL's 1.8 kWh/mi, Borlaug et al. 2021) lies inside; a figure outside the band would need a reason.
    tractor = vehicle_class("tractor")
    assert 0.92 <= tractor.kwh_per_km <= 1.50
    assert tractor.kwh_per_km == round(1.8 / 1.609344, 2)
    assert "ICCT" in tractor.source and "92 to 150 kWh/100 km" in tractor.source
    assert "second-hand" in tractor.source


def test_every_class_says_which_figures_are_assumptions():
    for key in vehicle_classes():
        source = vehicle_class(key).source
        assert "http" in source or "ICCT" in source or "maker's specifications" in source, key
        assert "assumption" in source, key  # the costs and the diesel counterparts are chisan's assumptions
