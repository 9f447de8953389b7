"""Tesla's raw payloads mapped onto brand-agnostic report fields, and Tesla's enum values onto message keys.

Paths start at `VehicleSnapshot.raw`: `vehicle_data` (the vehicle_data response), `service_data`,
`recent_alerts` (the list), `warranty` and `charging_history` (the sessions). Units are Tesla's, not
the reader's (reference §4): distances in miles, speeds in mph, temperatures in °C, tyre pressures
in bar, section timestamps in epoch milliseconds, `gps_as_of` and the TPMS times in epoch seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from carpulse.kit.region import FieldType
from carpulse.provider.fields import (
    BASIC_AND_PRO,
    PRO_ONLY,
    CapturedAt,
    FieldDef,
    Section,
    flatten_enums,
)

T = FieldType
S = Section


def _f(
    key: str,
    type_: FieldType,
    unit: str | None = None,
    *,
    section: Section,
    label: str | None = None,
    glossary: str | None = None,
    basic: bool = False,
    sensitive: bool = False,
    unit_from: str | None = None,
    decimals: int | None = None,
) -> FieldDef:
    return FieldDef(
        key=key,
        type=type_,
        unit=unit,
        section=section,
        label_key=f"field.{label or key}",
        glossary_key=f"glossary.{glossary}" if glossary else None,
        packages=BASIC_AND_PRO if basic else PRO_ONLY,
        sensitive=sensitive,
        unit_from=unit_from,
        decimals=decimals,
    )


_V = "vehicle_data"
_C = f"{_V}.charge_state"
_K = f"{_V}.climate_state"
_L = f"{_V}.closures_state"
_D = f"{_V}.drive_state"
_G = f"{_V}.gui_settings"
_CS = f"{_V}.charge_schedule_data"
_PS = f"{_V}.preconditioning_schedule_data"
_CF = f"{_V}.vehicle_config"
_VS = f"{_V}.vehicle_state"
_WHEELS = {"fl": "front_left", "fr": "front_right", "rl": "rear_left", "rr": "rear_right"}
_DOORS = {
    "df": "door_driver_front",
    "dr": "door_driver_rear",
    "pf": "door_passenger_front",
    "pr": "door_passenger_rear",
}
_TRUNKS = {"ft": "trunk_front", "rt": "trunk_rear"}
_WINDOWS = {
    "fd_window": "window_driver_front",
    "fp_window": "window_passenger_front",
    "rd_window": "window_driver_rear",
    "rp_window": "window_passenger_rear",
}
_WARRANTY_GROUPS = {"activeWarranty": "active", "upcomingWarranty": "upcoming", "expiredWarranty": "expired"}
_TIERS = ("Base", "Tier1", "Tier2", "Tier3", "Tier4")


def _vehicle() -> dict[str, FieldDef]:
    return {
        f"{_V}.vin": _f("vehicle.vin", T.text, section=S.identity, basic=True),
        f"{_V}.display_name": _f("vehicle.display_name", T.text, section=S.identity, basic=True),
        f"{_V}.color": _f("vehicle.color", T.text, section=S.identity),
        f"{_V}.access_type": _f("vehicle.access_type", T.enum, section=S.identity),
        f"{_V}.state": _f("vehicle.online_state", T.enum, section=S.identity, basic=True),
        f"{_V}.in_service": _f("vehicle.in_service", T.boolean, section=S.service, glossary="service_mode"),
        f"{_V}.granular_access.hide_private": _f("vehicle.hide_private", T.boolean, section=S.configuration),
        f"{_V}.calendar_enabled": _f("vehicle.calendar_enabled", T.boolean, section=S.configuration),
        f"{_V}.api_version": _f("vehicle.api_version", T.number, section=S.software),
        f"{_V}.ble_autopair_enrolled": _f("vehicle.ble_autopair_enrolled", T.boolean, section=S.configuration),
        f"{_V}.option_codes": _f("vehicle.option_codes", T.text, section=S.configuration),
    }


def _charge_state() -> dict[str, FieldDef]:
    battery, charging = S.battery, S.charging
    return {
        # Battery
        f"{_C}.battery_level": _f(
            "charge.battery_level", T.percent, "%", section=battery, glossary="state_of_charge", basic=True
        ),
        f"{_C}.usable_battery_level": _f(
            "charge.usable_battery_level", T.percent, "%", section=battery, glossary="usable_battery_level", basic=True
        ),
        f"{_C}.battery_range": _f(
            "charge.battery_range", T.distance, "mi", section=battery, glossary="rated_range", basic=True
        ),
        f"{_C}.est_battery_range": _f(
            "charge.est_battery_range", T.distance, "mi", section=battery, glossary="estimated_range", basic=True
        ),
        f"{_C}.ideal_battery_range": _f(
            "charge.ideal_battery_range", T.distance, "mi", section=battery, glossary="ideal_range"
        ),
        f"{_C}.energy_remaining": _f(
            "charge.energy_remaining", T.energy, "kWh", section=battery, glossary="energy_remaining"
        ),
        f"{_C}.lifetime_energy_used": _f(
            "charge.lifetime_energy_used", T.energy, "kWh", section=battery, glossary="lifetime_energy", decimals=0
        ),
        f"{_C}.pack_voltage": _f(
            "charge.pack_voltage", T.number, "V", section=battery, glossary="high_voltage_battery", decimals=0
        ),
        f"{_C}.pack_current": _f("charge.pack_current", T.number, "A", section=battery, decimals=1),
        f"{_C}.module_temp_min": _f(
            "charge.module_temp_min", T.temperature, "C", section=battery, glossary="battery_temperature"
        ),
        f"{_C}.module_temp_max": _f(
            "charge.module_temp_max", T.temperature, "C", section=battery, glossary="battery_temperature"
        ),
        f"{_C}.battery_heater_on": _f(
            "charge.battery_heater_on", T.boolean, section=battery, glossary="battery_heating"
        ),
        f"{_C}.not_enough_power_to_heat": _f("charge.not_enough_power_to_heat", T.boolean, section=battery),
        f"{_C}.max_range_charge_counter": _f(
            "charge.max_range_charge_counter", T.number, section=battery, glossary="max_range_charge"
        ),
        # Charging
        f"{_C}.charging_state": _f("charge.charging_state", T.enum, section=charging),
        f"{_C}.charge_limit_soc": _f(
            "charge.charge_limit_soc", T.percent, "%", section=charging, glossary="charge_limit"
        ),
        f"{_C}.charge_limit_soc_std": _f("charge.charge_limit_soc_std", T.percent, "%", section=charging),
        f"{_C}.charge_limit_soc_min": _f("charge.charge_limit_soc_min", T.percent, "%", section=charging),
        f"{_C}.charge_limit_soc_max": _f("charge.charge_limit_soc_max", T.percent, "%", section=charging),
        f"{_C}.charge_energy_added": _f(
            "charge.charge_energy_added", T.energy, "kWh", section=charging, glossary="energy_added"
        ),
        f"{_C}.charge_miles_added_rated": _f("charge.charge_miles_added_rated", T.distance, "mi", section=charging),
        f"{_C}.charge_miles_added_ideal": _f("charge.charge_miles_added_ideal", T.distance, "mi", section=charging),
        # Range gained per hour of charging, so it converts like a speed.
        f"{_C}.charge_rate": _f("charge.charge_rate", T.speed, "mph", section=charging),
        f"{_C}.charger_power": _f("charge.charger_power", T.power, "kW", section=charging, decimals=0),
        f"{_C}.charger_voltage": _f("charge.charger_voltage", T.number, "V", section=charging, decimals=0),
        f"{_C}.charger_actual_current": _f("charge.charger_actual_current", T.number, "A", section=charging),
        f"{_C}.charger_pilot_current": _f("charge.charger_pilot_current", T.number, "A", section=charging),
        f"{_C}.charger_phases": _f("charge.charger_phases", T.number, section=charging, glossary="charging_phases"),
        f"{_C}.charge_amps": _f("charge.charge_amps", T.number, "A", section=charging),
        f"{_C}.charge_current_request": _f("charge.charge_current_request", T.number, "A", section=charging),
        f"{_C}.charge_current_request_max": _f("charge.charge_current_request_max", T.number, "A", section=charging),
        f"{_C}.charge_enable_request": _f("charge.charge_enable_request", T.boolean, section=charging),
        f"{_C}.user_charge_enable_request": _f("charge.user_charge_enable_request", T.boolean, section=charging),
        f"{_C}.charge_port_door_open": _f("charge.charge_port_door_open", T.boolean, section=charging),
        f"{_C}.charge_port_latch": _f("charge.charge_port_latch", T.enum, section=charging),
        f"{_C}.charge_port_color": _f("charge.charge_port_color", T.enum, section=charging),
        f"{_C}.charge_port_cold_weather_mode": _f("charge.charge_port_cold_weather_mode", T.boolean, section=charging),
        f"{_C}.conn_charge_cable": _f("charge.conn_charge_cable", T.enum, section=charging, glossary="connector_type"),
        f"{_C}.fast_charger_present": _f(
            "charge.fast_charger_present", T.boolean, section=charging, glossary="dc_charging"
        ),
        f"{_C}.fast_charger_type": _f("charge.fast_charger_type", T.enum, section=charging, glossary="supercharger"),
        f"{_C}.fast_charger_brand": _f("charge.fast_charger_brand", T.enum, section=charging),
        f"{_C}.time_to_full_charge": _f("charge.time_to_full_charge", T.duration, "h", section=charging),
        f"{_C}.minutes_to_full_charge": _f("charge.minutes_to_full_charge", T.duration, "min", section=charging),
        f"{_C}.trip_charging": _f("charge.trip_charging", T.boolean, section=charging),
        f"{_C}.supercharger_session_trip_planner": _f(
            "charge.supercharger_session_trip_planner", T.boolean, section=charging, glossary="supercharger"
        ),
        f"{_C}.managed_charging_active": _f(
            "charge.managed_charging_active", T.boolean, section=charging, glossary="managed_charging"
        ),
        f"{_C}.managed_charging_start_time": _f(
            "charge.managed_charging_start_time", T.date, "epoch_s", section=charging
        ),
        f"{_C}.managed_charging_user_canceled": _f(
            "charge.managed_charging_user_canceled", T.boolean, section=charging
        ),
        f"{_C}.off_peak_charging_enabled": _f(
            "charge.off_peak_charging_enabled", T.boolean, section=charging, glossary="off_peak_charging"
        ),
        f"{_C}.off_peak_charging_times": _f("charge.off_peak_charging_times", T.enum, section=charging),
        f"{_C}.off_peak_hours_end_time": _f(
            "charge.off_peak_hours_end_time", T.time_of_day, "min_of_day", section=charging
        ),
        f"{_C}.preconditioning_enabled": _f(
            "charge.preconditioning_enabled", T.boolean, section=charging, glossary="preconditioning"
        ),
        f"{_C}.preconditioning_times": _f("charge.preconditioning_times", T.enum, section=charging),
        f"{_C}.scheduled_charging_mode": _f("charge.scheduled_charging_mode", T.enum, section=charging),
        f"{_C}.scheduled_charging_pending": _f("charge.scheduled_charging_pending", T.boolean, section=charging),
        f"{_C}.scheduled_charging_start_time": _f(
            "charge.scheduled_charging_start_time", T.date, "epoch_s", section=charging
        ),
        f"{_C}.scheduled_charging_start_time_app": _f(
            "charge.scheduled_charging_start_time_app", T.time_of_day, "min_of_day", section=charging
        ),
        f"{_C}.scheduled_departure_time": _f(
            "charge.scheduled_departure_time", T.date, "epoch_s", section=charging, glossary="scheduled_departure"
        ),
        f"{_C}.scheduled_departure_time_minutes": _f(
            "charge.scheduled_departure_time_minutes", T.time_of_day, "min_of_day", section=charging
        ),
        f"{_C}.charging_schedule_override": _f("charge.charging_schedule_override", T.boolean, section=charging),
        f"{_C}.timestamp": _f("charge.captured_at", T.date, "epoch_ms", section=charging, label="common.captured_at"),
    }


def _climate_state() -> dict[str, FieldDef]:
    climate = S.climate
    fields = {
        f"{_K}.inside_temp": _f("climate.inside_temp", T.temperature, "C", section=climate),
        f"{_K}.outside_temp": _f("climate.outside_temp", T.temperature, "C", section=climate),
        f"{_K}.driver_temp_setting": _f("climate.driver_temp_setting", T.temperature, "C", section=climate),
        f"{_K}.passenger_temp_setting": _f("climate.passenger_temp_setting", T.temperature, "C", section=climate),
        f"{_K}.min_avail_temp": _f("climate.min_avail_temp", T.temperature, "C", section=climate),
        f"{_K}.max_avail_temp": _f("climate.max_avail_temp", T.temperature, "C", section=climate),
        f"{_K}.is_climate_on": _f("climate.is_climate_on", T.boolean, section=climate),
        f"{_K}.is_auto_conditioning_on": _f("climate.is_auto_conditioning_on", T.boolean, section=climate),
        f"{_K}.is_preconditioning": _f(
            "climate.is_preconditioning", T.boolean, section=climate, glossary="preconditioning"
        ),
        f"{_K}.fan_status": _f("climate.fan_status", T.number, section=climate),
        f"{_K}.defrost_mode": _f("climate.defrost_mode", T.enum, section=climate),
        f"{_K}.is_front_defroster_on": _f("climate.is_front_defroster_on", T.boolean, section=climate),
        f"{_K}.is_rear_defroster_on": _f("climate.is_rear_defroster_on", T.boolean, section=climate),
        f"{_K}.allow_cabin_overheat_protection": _f(
            "climate.allow_cabin_overheat_protection", T.boolean, section=climate, glossary="cabin_overheat_protection"
        ),
        f"{_K}.cabin_overheat_protection": _f(
            "climate.cabin_overheat_protection", T.enum, section=climate, glossary="cabin_overheat_protection"
        ),
        f"{_K}.cabin_overheat_protection_actively_cooling": _f(
            "climate.cabin_overheat_protection_actively_cooling", T.boolean, section=climate
        ),
        f"{_K}.climate_keeper_mode": _f(
            "climate.climate_keeper_mode", T.enum, section=climate, glossary="climate_keeper"
        ),
        f"{_K}.battery_heater": _f("climate.battery_heater", T.boolean, section=climate, glossary="battery_heating"),
        f"{_K}.battery_heater_no_power": _f("climate.battery_heater_no_power", T.boolean, section=climate),
        f"{_K}.steering_wheel_heater": _f("climate.steering_wheel_heater", T.boolean, section=climate),
        f"{_K}.steering_wheel_heat_level": _f("climate.steering_wheel_heat_level", T.enum, section=climate),
        f"{_K}.side_mirror_heaters": _f("climate.side_mirror_heaters", T.boolean, section=climate),
        f"{_K}.wiper_blade_heater": _f("climate.wiper_blade_heater", T.boolean, section=climate),
        f"{_K}.remote_heater_control_enabled": _f("climate.remote_heater_control_enabled", T.boolean, section=climate),
        f"{_K}.timestamp": _f("climate.captured_at", T.date, "epoch_ms", section=climate, label="common.captured_at"),
    }
    for seat in ("left", "right", "rear_left", "rear_center", "rear_right"):
        fields[f"{_K}.seat_heater_{seat}"] = _f(f"climate.seat_heater_{seat}", T.enum, section=climate)
    return fields


def _openings(prefix: str, group: str) -> dict[str, FieldDef]:
    """Doors, trunks and windows: in vehicle_state, and again in closures_state when asked for."""
    fields = {}
    for raw, name in (_DOORS | _TRUNKS | _WINDOWS).items():
        fields[f"{prefix}.{raw}"] = _f(f"{group}.{name}", T.enum, section=S.security, label=f"security.{name}")
    return fields


def _closures_state() -> dict[str, FieldDef]:
    security = S.security
    return {
        **_openings(_L, "closures"),
        f"{_L}.locked": _f("closures.locked", T.boolean, section=security, label="security.locked"),
        f"{_L}.sentry_mode": _f(
            "closures.sentry_mode", T.boolean, section=security, label="security.sentry_mode", glossary="sentry_mode"
        ),
        f"{_L}.timestamp": _f("closures.captured_at", T.date, "epoch_ms", section=security, label="common.captured_at"),
    }


def _drive_state() -> dict[str, FieldDef]:
    drive, location = S.drive, S.location
    return {
        f"{_D}.shift_state": _f("drive.shift_state", T.enum, section=drive),
        f"{_D}.speed": _f("drive.speed", T.speed, "mph", section=drive),
        # Negative while the car charges or brakes regeneratively.
        f"{_D}.power": _f("drive.power", T.power, "kW", section=drive, glossary="regenerative_braking", decimals=0),
        f"{_D}.active_route_miles_to_arrival": _f(
            "drive.active_route_miles_to_arrival", T.distance, "mi", section=drive
        ),
        f"{_D}.active_route_minutes_to_arrival": _f(
            "drive.active_route_minutes_to_arrival", T.duration, "min", section=drive
        ),
        f"{_D}.active_route_traffic_minutes_delay": _f(
            "drive.active_route_traffic_minutes_delay", T.duration, "min", section=drive
        ),
        f"{_D}.active_route_energy_at_arrival": _f(
            "drive.active_route_energy_at_arrival", T.percent, "%", section=drive
        ),
        f"{_D}.active_route_destination": _f(
            "drive.active_route_destination", T.text, section=location, sensitive=True
        ),
        f"{_D}.active_route_latitude": _f(
            "drive.active_route_latitude", T.number, "deg", section=location, sensitive=True
        ),
        f"{_D}.active_route_longitude": _f(
            "drive.active_route_longitude", T.number, "deg", section=location, sensitive=True
        ),
        f"{_D}.latitude": _f("location.latitude", T.number, "deg", section=location, sensitive=True),
        f"{_D}.longitude": _f("location.longitude", T.number, "deg", section=location, sensitive=True),
        f"{_D}.native_latitude": _f("location.native_latitude", T.number, "deg", section=location, sensitive=True),
        f"{_D}.native_longitude": _f("location.native_longitude", T.number, "deg", section=location, sensitive=True),
        # China: WGS-84 coordinates next to the native GCJ-02 ones.
        f"{_D}.corrected_latitude": _f(
            "location.corrected_latitude", T.number, "deg", section=location, sensitive=True
        ),
        f"{_D}.corrected_longitude": _f(
            "location.corrected_longitude", T.number, "deg", section=location, sensitive=True
        ),
        f"{_D}.heading": _f("location.heading", T.number, "deg", section=location, sensitive=True, decimals=0),
        f"{_D}.gps_as_of": _f("location.gps_as_of", T.date, "epoch_s", section=location),
        f"{_D}.native_location_supported": _f("location.native_location_supported", T.boolean, section=location),
        f"{_D}.native_type": _f("location.native_type", T.enum, section=location),
        f"{_D}.timestamp": _f("drive.captured_at", T.date, "epoch_ms", section=drive, label="common.captured_at"),
    }


def _gui_settings() -> dict[str, FieldDef]:
    settings = S.settings
    return {
        f"{_G}.gui_distance_units": _f("display.distance_units", T.enum, section=settings),
        f"{_G}.gui_temperature_units": _f("display.temperature_units", T.enum, section=settings),
        f"{_G}.gui_tirepressure_units": _f("display.tire_pressure_units", T.enum, section=settings),
        f"{_G}.gui_charge_rate_units": _f("display.charge_rate_units", T.enum, section=settings),
        f"{_G}.gui_range_display": _f("display.range_display", T.enum, section=settings, glossary="rated_range"),
        f"{_G}.gui_24_hour_time": _f("display.clock_24_hour", T.boolean, section=settings),
        f"{_G}.show_range_units": _f("display.show_range_units", T.boolean, section=settings),
        f"{_G}.timestamp": _f("display.captured_at", T.date, "epoch_ms", section=settings, label="common.captured_at"),
    }


def _schedules() -> dict[str, FieldDef]:
    charging, climate = S.charging, S.climate
    charge = f"{_CS}.charge_schedules[]"
    precondition = f"{_PS}.preconditioning_schedules[]"
    return {
        f"{charge}.id": _f("charge_schedule.id", T.text, section=charging, label="schedule.id"),
        f"{charge}.name": _f("charge_schedule.name", T.text, section=charging, label="schedule.name"),
        f"{charge}.enabled": _f("charge_schedule.enabled", T.boolean, section=charging, label="schedule.enabled"),
        f"{charge}.days_of_week": _f(
            "charge_schedule.days_of_week", T.enum, section=charging, label="schedule.days_of_week"
        ),
        f"{charge}.one_time": _f("charge_schedule.one_time", T.boolean, section=charging, label="schedule.one_time"),
        f"{charge}.start_enabled": _f("charge_schedule.start_enabled", T.boolean, section=charging),
        f"{charge}.start_time": _f("charge_schedule.start_time", T.time_of_day, "min_of_day", section=charging),
        f"{charge}.end_enabled": _f("charge_schedule.end_enabled", T.boolean, section=charging),
        f"{charge}.end_time": _f("charge_schedule.end_time", T.time_of_day, "min_of_day", section=charging),
        f"{charge}.latitude": _f(
            "charge_schedule.latitude", T.number, "deg", section=S.location, label="location.latitude", sensitive=True
        ),
        f"{charge}.longitude": _f(
            "charge_schedule.longitude", T.number, "deg", section=S.location, label="location.longitude", sensitive=True
        ),
        f"{_CS}.max_num_charge_schedules": _f("charge_schedule.max_count", T.number, section=charging),
        f"{_CS}.next_schedule": _f("charge_schedule.next_schedule", T.boolean, section=charging),
        f"{_CS}.timestamp": _f(
            "charge_schedule.captured_at", T.date, "epoch_ms", section=charging, label="common.captured_at"
        ),
        f"{precondition}.id": _f("precondition_schedule.id", T.text, section=climate, label="schedule.id"),
        f"{precondition}.name": _f("precondition_schedule.name", T.text, section=climate, label="schedule.name"),
        f"{precondition}.enabled": _f(
            "precondition_schedule.enabled", T.boolean, section=climate, label="schedule.enabled"
        ),
        f"{precondition}.days_of_week": _f(
            "precondition_schedule.days_of_week", T.enum, section=climate, label="schedule.days_of_week"
        ),
        f"{precondition}.one_time": _f(
            "precondition_schedule.one_time", T.boolean, section=climate, label="schedule.one_time"
        ),
        f"{precondition}.precondition_time": _f(
            "precondition_schedule.precondition_time",
            T.time_of_day,
            "min_of_day",
            section=climate,
            glossary="preconditioning",
        ),
        f"{precondition}.latitude": _f(
            "precondition_schedule.latitude",
            T.number,
            "deg",
            section=S.location,
            label="location.latitude",
            sensitive=True,
        ),
        f"{precondition}.longitude": _f(
            "precondition_schedule.longitude",
            T.number,
            "deg",
            section=S.location,
            label="location.longitude",
            sensitive=True,
        ),
        f"{_PS}.max_num_precondition_schedules": _f("precondition_schedule.max_count", T.number, section=climate),
        f"{_PS}.timestamp": _f(
            "precondition_schedule.captured_at", T.date, "epoch_ms", section=climate, label="common.captured_at"
        ),
    }


def _vehicle_config() -> dict[str, FieldDef]:
    identity, config = S.identity, S.configuration
    return {
        f"{_CF}.car_type": _f("config.car_type", T.enum, section=identity, basic=True),
        f"{_CF}.trim_badging": _f("config.trim_badging", T.enum, section=identity, basic=True),
        f"{_CF}.exterior_color": _f("config.exterior_color", T.enum, section=identity, basic=True),
        f"{_CF}.wheel_type": _f("config.wheel_type", T.enum, section=identity, basic=True),
        f"{_CF}.roof_color": _f("config.roof_color", T.enum, section=identity),
        f"{_CF}.car_special_type": _f("config.car_special_type", T.enum, section=identity),
        f"{_CF}.third_row_seats": _f("config.third_row_seats", T.enum, section=identity),
        f"{_CF}.rhd": _f("config.rhd", T.boolean, section=identity),
        f"{_CF}.eu_vehicle": _f("config.eu_vehicle", T.boolean, section=identity),
        f"{_CF}.charge_port_type": _f("config.charge_port_type", T.enum, section=config, glossary="connector_type"),
        f"{_CF}.driver_assist": _f("config.driver_assist", T.enum, section=config, glossary="autopilot_hardware"),
        f"{_CF}.efficiency_package": _f("config.efficiency_package", T.text, section=config),
        f"{_CF}.has_air_suspension": _f("config.has_air_suspension", T.boolean, section=config),
        f"{_CF}.motorized_charge_port": _f("config.motorized_charge_port", T.boolean, section=config),
        f"{_CF}.plg": _f("config.power_liftgate", T.boolean, section=config),
        f"{_CF}.can_actuate_trunks": _f("config.can_actuate_trunks", T.boolean, section=config),
        f"{_CF}.can_accept_navigation_requests": _f("config.can_accept_navigation_requests", T.boolean, section=config),
        f"{_CF}.utc_offset": _f("config.utc_offset", T.duration, "s", section=config),
        f"{_CF}.timestamp": _f("config.captured_at", T.date, "epoch_ms", section=config, label="common.captured_at"),
    }


def _vehicle_state() -> dict[str, FieldDef]:
    security, software, tyres = S.security, S.software, S.tyres
    update, limit, media = f"{_VS}.software_update", f"{_VS}.speed_limit_mode", f"{_VS}.media_info"
    fields = {
        f"{_VS}.odometer": _f("state.odometer", T.distance, "mi", section=S.drive, basic=True),
        f"{_VS}.vehicle_name": _f("state.vehicle_name", T.text, section=S.identity, basic=True),
        f"{_VS}.car_version": _f("software.car_version", T.text, section=software, basic=True),
        f"{_VS}.api_version": _f("software.api_version", T.number, section=software, label="vehicle.api_version"),
        f"{update}.status": _f(
            "software.update_status", T.enum, section=software, glossary="over_the_air_update", basic=True
        ),
        f"{update}.version": _f("software.update_version", T.text, section=software, basic=True),
        f"{update}.download_perc": _f("software.update_download_percent", T.percent, "%", section=software),
        f"{update}.install_perc": _f("software.update_install_percent", T.percent, "%", section=software),
        f"{update}.expected_duration_sec": _f("software.update_expected_duration", T.duration, "s", section=software),
        **_openings(_VS, "security"),
        f"{_VS}.locked": _f("security.locked", T.boolean, section=security),
        f"{_VS}.sentry_mode": _f("security.sentry_mode", T.boolean, section=security, glossary="sentry_mode"),
        f"{_VS}.sentry_mode_available": _f("security.sentry_mode_available", T.boolean, section=security),
        f"{_VS}.valet_mode": _f("security.valet_mode", T.boolean, section=security, glossary="valet_mode"),
        f"{_VS}.is_user_present": _f("security.is_user_present", T.boolean, section=security),
        f"{_VS}.remote_start": _f("security.remote_start", T.boolean, section=security),
        f"{_VS}.dashcam_state": _f("security.dashcam_state", T.enum, section=security),
        f"{limit}.active": _f("security.speed_limit_active", T.boolean, section=security, glossary="speed_limit_mode"),
        f"{limit}.current_limit_mph": _f("security.speed_limit_current", T.speed, "mph", section=security),
        f"{limit}.max_limit_mph": _f("security.speed_limit_max", T.speed, "mph", section=security),
        f"{limit}.min_limit_mph": _f("security.speed_limit_min", T.speed, "mph", section=security),
        f"{limit}.pin_code_set": _f("security.speed_limit_pin_set", T.boolean, section=security),
        f"{_VS}.service_mode": _f("service.service_mode", T.boolean, section=S.service, glossary="service_mode"),
        f"{_VS}.autopark_state_v3": _f("config.autopark_state", T.enum, section=S.configuration),
        f"{_VS}.calendar_supported": _f("config.calendar_supported", T.boolean, section=S.configuration),
        f"{_VS}.center_display_state": _f("config.center_display_state", T.enum, section=S.configuration),
        f"{media}.media_playback_status": _f("media.playback_status", T.enum, section=S.configuration),
        f"{media}.now_playing_source": _f("media.source", T.text, section=S.configuration),
        f"{media}.audio_volume": _f("media.audio_volume", T.number, section=S.configuration, decimals=1),
        f"{media}.audio_volume_max": _f("media.audio_volume_max", T.number, section=S.configuration, decimals=1),
        f"{media}.now_playing_duration": _f("media.duration", T.duration, "ms", section=S.configuration),
        f"{media}.now_playing_elapsed": _f("media.elapsed", T.duration, "ms", section=S.configuration),
        # What was playing and which phone was paired say who drove and where they listened: never printed.
        f"{media}.a2dp_source_name": _f("media.phone_name", T.text, section=S.configuration, sensitive=True),
        f"{media}.now_playing_title": _f("media.title", T.text, section=S.configuration, sensitive=True),
        f"{media}.now_playing_artist": _f("media.artist", T.text, section=S.configuration, sensitive=True),
        f"{media}.now_playing_album": _f("media.album", T.text, section=S.configuration, sensitive=True),
        f"{media}.now_playing_station": _f("media.station", T.text, section=S.configuration, sensitive=True),
        f"{_VS}.media_state.remote_control_enabled": _f(
            "media.remote_control_enabled", T.boolean, section=S.configuration
        ),
        f"{_VS}.tpms_rcp_front_value": _f(
            "tyres.recommended_front", T.pressure, "bar", section=tyres, glossary="recommended_cold_pressure"
        ),
        f"{_VS}.tpms_rcp_rear_value": _f(
            "tyres.recommended_rear", T.pressure, "bar", section=tyres, glossary="recommended_cold_pressure"
        ),
        f"{_VS}.timestamp": _f("state.captured_at", T.date, "epoch_ms", section=S.drive, label="common.captured_at"),
    }
    for wheel, name in _WHEELS.items():
        fields[f"{_VS}.tpms_pressure_{wheel}"] = _f(
            f"tyres.pressure_{name}", T.pressure, "bar", section=tyres, glossary="tpms"
        )
        fields[f"{_VS}.tpms_last_seen_pressure_time_{wheel}"] = _f(
            f"tyres.last_seen_{name}", T.date, "epoch_s", section=tyres
        )
        fields[f"{_VS}.tpms_soft_warning_{wheel}"] = _f(
            f"tyres.soft_warning_{name}", T.boolean, section=tyres, glossary="tpms"
        )
        fields[f"{_VS}.tpms_hard_warning_{wheel}"] = _f(
            f"tyres.hard_warning_{name}", T.boolean, section=tyres, glossary="tpms"
        )
    return fields


def _service_and_alerts() -> dict[str, FieldDef]:
    service, alerts = S.service, S.alerts
    return {
        "service_data.service_status": _f("service.status", T.enum, section=service, glossary="service_mode"),
        "service_data.service_etc": _f("service.estimated_completion", T.date, "iso", section=service),
        "service_data.service_visit_number": _f("service.visit_number", T.text, section=service),
        "service_data.status_id": _f("service.status_id", T.number, section=service),
        "recent_alerts[].name": _f("alert.name", T.text, section=alerts, glossary="vehicle_alert", basic=True),
        "recent_alerts[].time": _f("alert.time", T.date, "iso", section=alerts, basic=True),
        "recent_alerts[].user_text": _f("alert.user_text", T.text, section=alerts, basic=True),
        "recent_alerts[].audience[]": _f("alert.audience", T.enum, section=alerts, basic=True),
    }


def _warranty() -> dict[str, FieldDef]:
    fields: dict[str, FieldDef] = {}
    for raw, group in _WARRANTY_GROUPS.items():
        path, key = f"warranty.{raw}[]", f"warranty.{group}"
        fields |= {
            f"{path}.warrantyType": _f(
                f"{key}.type", T.enum, section=S.warranty, label="warranty.type", glossary="warranty", basic=True
            ),
            f"{path}.warrantyDisplayName": _f(
                f"{key}.display_name", T.text, section=S.warranty, label="warranty.display_name", basic=True
            ),
            # A calendar date at midnight UTC: shown as written, never moved into the reader's zone.
            f"{path}.expirationDate": _f(
                f"{key}.expiration_date",
                T.date,
                "iso_date",
                section=S.warranty,
                label="warranty.expiration_date",
                basic=True,
            ),
            f"{path}.expirationOdometer": _f(
                f"{key}.expiration_odometer",
                T.distance,
                "mi",
                section=S.warranty,
                label="warranty.expiration_odometer",
                unit_from="odometerUnit",
                basic=True,
            ),
            f"{path}.odometerUnit": _f(
                f"{key}.odometer_unit", T.enum, section=S.warranty, label="warranty.odometer_unit", basic=True
            ),
            f"{path}.warrantyExpiredOn": _f(
                f"{key}.expired_on", T.date, "iso_date", section=S.warranty, label="warranty.expired_on", basic=True
            ),
            f"{path}.coverageAgeInYears": _f(
                f"{key}.coverage_years",
                T.number,
                "year",
                section=S.warranty,
                label="warranty.coverage_years",
                basic=True,
            ),
        }
    return fields


def _charging_history() -> dict[str, FieldDef]:
    history = S.charging_history
    session, fee, invoice = "charging_history[]", "charging_history[].fees[]", "charging_history[].invoices[]"
    fields = {
        f"{session}.sessionId": _f("charging_session.id", T.text, section=history),
        f"{session}.vin": _f("charging_session.vin", T.text, section=history, label="vehicle.vin"),
        f"{session}.siteLocationName": _f("charging_session.site", T.text, section=history, glossary="supercharger"),
        f"{session}.countryCode": _f("charging_session.country", T.text, "iso3166", section=history),
        f"{session}.chargeStartDateTime": _f("charging_session.started_at", T.date, "iso", section=history),
        f"{session}.chargeStopDateTime": _f("charging_session.stopped_at", T.date, "iso", section=history),
        f"{session}.unlatchDateTime": _f("charging_session.unlatched_at", T.date, "iso", section=history),
        f"{session}.billingType": _f("charging_session.billing_type", T.enum, section=history),
        f"{session}.vehicleMakeType": _f("charging_session.vehicle_make", T.enum, section=history),
        f"{invoice}.fileName": _f("charging_invoice.file_name", T.text, section=history),
        f"{invoice}.contentId": _f("charging_invoice.content_id", T.text, section=history),
        f"{invoice}.invoiceType": _f("charging_invoice.type", T.enum, section=history),
        f"{fee}.sessionFeeId": _f("charging_fee.id", T.text, section=history),
        f"{fee}.feeType": _f("charging_fee.type", T.enum, section=history, glossary="idle_fee"),
        f"{fee}.pricingType": _f("charging_fee.pricing_type", T.enum, section=history),
        f"{fee}.currencyCode": _f("charging_fee.currency", T.text, section=history),
        f"{fee}.uom": _f("charging_fee.unit", T.enum, section=history),
        f"{fee}.totalDue": _f("charging_fee.total_due", T.money, section=history, unit_from="currencyCode"),
        f"{fee}.netDue": _f("charging_fee.net_due", T.money, section=history, unit_from="currencyCode"),
        f"{fee}.isPaid": _f("charging_fee.is_paid", T.boolean, section=history),
        f"{fee}.status": _f("charging_fee.status", T.enum, section=history),
    }
    for tier in _TIERS:
        name = tier.lower().replace("tier", "tier_")
        fields[f"{fee}.rate{tier}"] = _f(
            f"charging_fee.rate_{name}", T.money, section=history, unit_from="currencyCode"
        )
        # Usage is in the fee's own unit: kWh for charging, minutes for idle fees.
        fields[f"{fee}.usage{tier}"] = _f(f"charging_fee.usage_{name}", T.number, section=history, unit_from="uom")
        fields[f"{fee}.total{tier}"] = _f(
            f"charging_fee.total_{name}", T.money, section=history, unit_from="currencyCode"
        )
    return fields


TESLA_FIELDS: dict[str, FieldDef] = {
    **_vehicle(),
    **_charge_state(),
    **_climate_state(),
    **_closures_state(),
    **_drive_state(),
    **_gui_settings(),
    **_schedules(),
    **_vehicle_config(),
    **_vehicle_state(),
    **_service_and_alerts(),
    **_warranty(),
    **_charging_history(),
}

# Leaves of Tesla's payloads that are deliberately not report fields.
TESLA_IGNORED: dict[str, str] = {
    f"{_V}.id": "Tesla's internal REST id of the vehicle",
    f"{_V}.id_s": "the internal REST id as a string",
    f"{_V}.vehicle_id": "Tesla's internal streaming id",
    f"{_V}.user_id": "Tesla's internal id of the account holder",
    f"{_V}.tokens": "credentials of the legacy streaming API",
    f"{_V}.backseat_token": "a credential",
    f"{_V}.backseat_token_updated_at": "when a credential was rotated",
}


def _enum(topic: str, *values: str) -> dict[str, str]:
    """Raw values → `enum.<topic>.<value in snake case>` message keys."""
    return {value: f"enum.{topic}.{_slug(value)}" for value in values}


def _slug(value: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value)
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


_LEVELS = {"0": "enum.level.off", "1": "enum.level.low", "2": "enum.level.medium", "3": "enum.level.high"}
_DOOR = {"0": "enum.opening.closed", "1": "enum.opening.open"}
_WINDOW = {"0": "enum.opening.closed", "1": "enum.opening.vented", "2": "enum.opening.open"}
# A bitmask of weekdays; only "every day" is unambiguous, other masks are shown as the number.
_DAYS = {"127": "enum.days_of_week.every_day"}
_WEEK_TIMES = _enum("week_times", "all_week", "weekdays")
_WARRANTY_TYPES = _enum(
    "warranty_type",
    "NEW_MFG_WARRANTY",
    "BATTERY_WARRANTY",
    "DRIVEUNIT_WARRANTY",
    "SRS_WARRANTY",
    "CORROSION_WARRANTY",
    "EXTENDED_SERVICE_AGREEMENT",
)
_ODOMETER_UNITS = {"MI": "enum.distance_unit.miles", "KM": "enum.distance_unit.kilometres"}

# Per field key: raw enum value → message key. A value missing here is shown as Tesla sent it.
TESLA_ENUM_TABLES: dict[str, dict[str, str]] = {
    "vehicle.access_type": _enum("access_type", "OWNER", "DRIVER"),
    "vehicle.online_state": _enum("online_state", "online", "asleep", "offline"),
    "charge.charging_state": _enum(
        "charging_state", "Charging", "Complete", "Disconnected", "Stopped", "NoPower", "Starting"
    ),
    "charge.charge_port_latch": _enum("charge_port_latch", "Engaged", "Disengaged", "Blocking"),
    "charge.charge_port_color": _enum(
        "charge_port_color", "Off", "Blue", "Green", "FlashingGreen", "Red", "FlashingAmber", "White"
    ),
    "charge.conn_charge_cable": _enum("charge_cable", "SAE", "IEC", "GB_AC", "GB_DC"),
    "charge.fast_charger_type": {
        "CHAdeMO": "enum.fast_charger_type.chademo",
        **_enum("fast_charger_type", "Supercharger", "Combo", "GB", "ACSingleWireCAN", "MCSingleWireCAN", "Tesla"),
    },
    "charge.fast_charger_brand": _enum("fast_charger_brand", "Tesla"),
    "charge.off_peak_charging_times": _WEEK_TIMES,
    "charge.preconditioning_times": _WEEK_TIMES,
    "charge.scheduled_charging_mode": _enum("scheduled_charging_mode", "Off", "StartAt", "DepartBy"),
    "climate.defrost_mode": {"0": "enum.level.off", "1": "enum.defrost_mode.normal", "2": "enum.defrost_mode.max"},
    "climate.cabin_overheat_protection": _enum("cabin_overheat_protection", "On", "Off", "FanOnly"),
    "climate.climate_keeper_mode": _enum("climate_keeper_mode", "off", "on", "keep", "dog", "camp"),
    "climate.steering_wheel_heat_level": _LEVELS,
    **{f"climate.seat_heater_{seat}": _LEVELS for seat in ("left", "right", "rear_left", "rear_center", "rear_right")},
    **{f"{group}.{name}": _DOOR for group in ("security", "closures") for name in (_DOORS | _TRUNKS).values()},
    **{f"{group}.{name}": _WINDOW for group in ("security", "closures") for name in _WINDOWS.values()},
    "drive.shift_state": _enum("shift_state", "P", "R", "N", "D"),
    "location.native_type": _enum("coordinate_system", "wgs", "gcj"),
    "display.distance_units": {"mi/hr": "enum.distance_unit.miles", "km/hr": "enum.distance_unit.kilometres"},
    "display.temperature_units": {"C": "enum.temperature_unit.celsius", "F": "enum.temperature_unit.fahrenheit"},
    "display.tire_pressure_units": {
        "Bar": "enum.pressure_unit.bar",
        "Psi": "enum.pressure_unit.psi",
        "kPa": "enum.pressure_unit.kpa",
    },
    "display.charge_rate_units": {
        "kW": "enum.charge_rate_unit.power",
        "mi/hr": "enum.charge_rate_unit.range",
        "km/hr": "enum.charge_rate_unit.range",
    },
    "display.range_display": _enum("range_display", "Rated", "Ideal"),
    "charge_schedule.days_of_week": _DAYS,
    "precondition_schedule.days_of_week": _DAYS,
    "config.car_type": _enum("car_type", "models", "models2", "modelx", "model3", "modely", "cybertruck"),
    "config.trim_badging": _enum(
        "trim", "50", "74", "74d", "p74d", "75d", "100d", "p100d", "plaid", "awd", "cyberbeast"
    ),
    "config.exterior_color": _enum(
        "paint",
        "PearlWhite",
        "SolidBlack",
        "ObsidianBlack",
        "MidnightSilver",
        "DeepBlue",
        "RedMulticoat",
        "QuicksilverGrey",
        "StealthGrey",
        "UltraRed",
        "MidnightCherryRed",
    ),
    "config.wheel_type": _enum(
        "wheel",
        "Slipstream19",
        "Tempest19",
        "Arachnid21",
        "Cyberstream20",
        "Turbine22",
        "Pinwheel18",
        "Pinwheel18CapKit",
        "Stiletto19",
        "Stiletto20",
        "Photon18",
        "Gemini19",
        "Induction20",
        "Uberturbine21",
        "Cyber20AT",
        "Cyber20Aero",
    ),
    "config.roof_color": _enum("roof", "RoofColorGlass", "Black"),
    "config.car_special_type": _enum("car_special_type", "base"),
    "config.third_row_seats": _enum("third_row_seats", "None", "FuturisFoldFlat"),
    "config.charge_port_type": _enum("charge_port_type", "CCS", "US", "EU", "GB"),
    "config.driver_assist": _enum("driver_assist", "MonoCam", "TeslaAP2", "TeslaAP3", "TeslaAP4"),
    "config.autopark_state": _enum("autopark_state", "standby", "ready", "unavailable"),
    "config.center_display_state": {
        "0": "enum.center_display.off",
        "2": "enum.center_display.on",
        "3": "enum.center_display.charging",
        "7": "enum.center_display.sentry",
        "8": "enum.center_display.dog_mode",
    },
    "security.dashcam_state": _enum("dashcam_state", "Recording", "Standby", "Unavailable"),
    "software.update_status": {
        # An empty status means no update is waiting.
        "": "enum.update_status.none",
        **_enum("update_status", "available", "scheduled", "downloading", "downloading_wifi_wait", "installing"),
    },
    "media.playback_status": _enum("playback_status", "Playing", "Paused", "Stopped"),
    "service.status": _enum("service_status", "in_service", "not_in_service"),
    "alert.audience": _enum("alert_audience", "customer", "service", "service-fix"),
    **{f"warranty.{group}.type": _WARRANTY_TYPES for group in _WARRANTY_GROUPS.values()},
    **{f"warranty.{group}.odometer_unit": _ODOMETER_UNITS for group in _WARRANTY_GROUPS.values()},
    "charging_session.billing_type": _enum("billing_type", "IMMEDIATE", "POSTPAID"),
    "charging_session.vehicle_make": _enum("vehicle_make", "TSLA", "NON_TSLA"),
    "charging_invoice.type": _enum("invoice_type", "IMMEDIATE", "POSTPAID"),
    "charging_fee.type": _enum("fee_type", "CHARGING", "PARKING", "CONGESTION"),
    "charging_fee.pricing_type": _enum("pricing_type", "PAYMENT", "NO_CHARGE"),
    "charging_fee.unit": _enum("fee_unit", "kwh", "min"),
    "charging_fee.status": _enum("fee_status", "PAID", "UNPAID", "PENDING"),
}


# Raw enum value → message key, for `format_value` (see `flatten_enums` for values that differ by field).
TESLA_ENUMS: dict[str, str] = flatten_enums(TESLA_ENUM_TABLES)


def tesla_capture_times(raw: Mapping[str, Any], fallback: datetime | None) -> CapturedAt:
    """When each path's part was read: a vehicle_data section's own `timestamp` (epoch ms), else `fallback`."""
    data = raw.get("vehicle_data")
    sections = data if isinstance(data, Mapping) else {}

    def captured_at(path: str) -> datetime | None:
        parts = path.split(".")
        if parts[0] != "vehicle_data" or len(parts) < 3:
            return fallback
        section = sections.get(parts[1])
        stamp = section.get("timestamp") if isinstance(section, Mapping) else None
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) or stamp <= 0:
            return fallback
        try:
            return datetime.fromtimestamp(stamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return fallback

    return captured_at
