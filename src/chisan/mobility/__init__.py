"""Mobility: bookings (generated or imported), trip energy, fleet assignment and per-vehicle availability.

Pipeline::

    bookings = generate_bookings(...) or read_bookings_csv(...)
    temp = booking_temperature_c(bookings, weather["temp_air"])
    energy = trip_energy_kwh(bookings["distance_km"], vehicle.consumption_battery_kwh_per_km(eta), temp)
    assignment = assign_bookings(bookings, energy, usable_kwh=..., reserve_kwh=..., charge_power_kw=..., ...)
    series = vehicle_timeseries(assignment, snapshots, dt_hours)   # plugged, trip_energy_kwh, departures
"""

from chisan.mobility.availability import (
    VehicleSeries,
    booking_steps,
    bookings_per_step,
    check_snapshots,
    vehicle_timeseries,
)
from chisan.mobility.bookings import (
    BOOKING_COLUMNS,
    DEFAULT_DISTANCE_SIGMA,
    DEFAULT_DURATION_SIGMA,
    DEFAULT_HOUR_PROFILE_WEEKDAY,
    DEFAULT_HOUR_PROFILE_WEEKEND,
    DEFAULT_MEAN_DURATION_H,
    DEFAULT_MEAN_SPEED_KMH,
    DEFAULT_WEEKEND_FACTOR,
    OPTIONAL_BOOKING_COLUMNS,
    check_bookings,
    daily_booking_rates,
    generate_bookings,
    read_bookings_csv,
)
from chisan.mobility.energy import (
    COOLING_INCREASE_PER_C,
    COOLING_THRESHOLD_C,
    HEATING_INCREASE_PER_C,
    HEATING_THRESHOLD_C,
    booking_temperature_c,
    temperature_factor,
    trip_energy_kwh,
)
from chisan.mobility.fleet import (
    UNSERVED_REASONS,
    FleetAssignment,
    UnservedBookingsWarning,
    assign_bookings,
    vehicle_ids,
)

__all__ = [
    "BOOKING_COLUMNS",
    "COOLING_INCREASE_PER_C",
    "COOLING_THRESHOLD_C",
    "DEFAULT_DISTANCE_SIGMA",
    "DEFAULT_DURATION_SIGMA",
    "DEFAULT_HOUR_PROFILE_WEEKDAY",
    "DEFAULT_HOUR_PROFILE_WEEKEND",
    "DEFAULT_MEAN_DURATION_H",
    "DEFAULT_MEAN_SPEED_KMH",
    "DEFAULT_WEEKEND_FACTOR",
    "HEATING_INCREASE_PER_C",
    "HEATING_THRESHOLD_C",
    "OPTIONAL_BOOKING_COLUMNS",
    "UNSERVED_REASONS",
    "FleetAssignment",
    "UnservedBookingsWarning",
    "VehicleSeries",
    "assign_bookings",
    "booking_steps",
    "booking_temperature_c",
    "bookings_per_step",
    "check_bookings",
    "check_snapshots",
    "daily_booking_rates",
    "generate_bookings",
    "read_bookings_csv",
    "temperature_factor",
    "trip_energy_kwh",
    "vehicle_ids",
    "vehicle_timeseries",
]
