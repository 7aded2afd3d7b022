"""Delivery depots: duty schedules of depot-based fleets and the energy they need (issue 14)."""

from chisan.depots.duties import KM_PER_MILE, read_nrel_vehicle_days, shift_energy_kwh

__all__ = ["KM_PER_MILE", "read_nrel_vehicle_days", "shift_energy_kwh"]
