"""Payloads of the vehicle endpoints, built on request from a vehicle (values follow reference §6)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fakes.tesla_fleet.catalog import ALERTS, RELEASE_NOTES, firmware_number, zone
from fakes.tesla_fleet.fleet import Account, Vehicle

SECTIONS = (
    "charge_state",
    "climate_state",
    "closures_state",
    "drive_state",
    "gui_settings",
    "location_data",
    "charge_schedule_data",
    "preconditioning_schedule_data",
    "vehicle_config",
    "vehicle_state",
)
DEFAULT_SECTIONS = ("charge_state", "climate_state", "drive_state", "gui_settings", "vehicle_config", "vehicle_state")


def _rng(seed: int, vehicle: Vehicle, purpose: str) -> random.Random:
    return random.Random(f"tesla-fleet:{seed}:{vehicle.vin}:{purpose}")  # noqa: S311 - seeded on purpose


_PAINT_CODES = {
    "PearlWhite": "PPSW",
    "SolidBlack": "PBSB",
    "MidnightSilver": "PMNG",
    "DeepBlue": "PPSB",
    "RedMulticoat": "PPMR",
    "QuicksilverGrey": "PN00",
}


def option_codes(vehicle: Vehicle) -> str | None:
    paint = _PAINT_CODES.get(vehicle.exterior_color)
    return f"MDL{vehicle.vin[3]},{paint}" if paint else None


def summary(vehicle: Vehicle, account: Account, *, with_user: bool = False) -> dict[str, Any]:
    """The vehicle object of the list, the single-vehicle and the wake_up endpoints."""
    body: dict[str, Any] = {
        "id": vehicle.id,
        "vehicle_id": vehicle.vehicle_id,
        "vin": vehicle.vin,
        "color": None,
        "access_type": vehicle.access_type,
        "display_name": vehicle.display_name,
        # Tesla fills this for some accounts only; the sandbox does, so its cars are drawn in their paint.
        "option_codes": option_codes(vehicle),
        "granular_access": {"hide_private": vehicle.hide_private},
        "tokens": None,
        "state": vehicle.state,
        "in_service": vehicle.in_service,
        "id_s": str(vehicle.id),
        "calendar_enabled": True,
        "api_version": 81,
        "backseat_token": None,
        "backseat_token_updated_at": None,
        "ble_autopair_enrolled": False,
    }
    if with_user:
        body = {"id": vehicle.id, "user_id": account.user_id, **body}
    return body


def vehicle_data(
    vehicle: Vehicle, account: Account, *, seed: int, now: datetime, sections: list[str] | None, location: bool
) -> dict[str, Any]:
    """`vehicle_data`: the requested sections (default bundle without `endpoints`); coordinates only if allowed."""
    wanted = [name for name in sections if name in SECTIONS] if sections is not None else list(DEFAULT_SECTIONS)
    if "location_data" in wanted:
        wanted.remove("location_data")
        if "drive_state" not in wanted:
            wanted.append("drive_state")
        with_location = location and not vehicle.hide_private
    else:
        with_location = False
    millis = int(now.timestamp() * 1000)
    builders = {
        "charge_state": _charge_state,
        "climate_state": _climate_state,
        "closures_state": _closures_state,
        "drive_state": _drive_state,
        "gui_settings": _gui_settings,
        "charge_schedule_data": _charge_schedules,
        "preconditioning_schedule_data": _preconditioning_schedules,
        "vehicle_config": _vehicle_config,
        "vehicle_state": _vehicle_state,
    }
    body = summary(vehicle, account, with_user=True)
    # Each section draws from its own stream, so asking for fewer sections never changes a value.
    for name in wanted:
        body[name] = builders[name](vehicle, _rng(seed, vehicle, name), millis)
    if with_location:
        body["drive_state"].update(_location(vehicle, _rng(seed, vehicle, "location"), now))
    return body


def _charge_state(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    level = rng.randint(22, 88)
    full = vehicle.range_at_full_miles
    battery_range = round(full * level / 100, 2)
    charging = rng.random() < 0.15
    region = vehicle.market.region
    limit = 90 if vehicle.model.name == "Cybertruck" else 80
    volts, amps, phases = {"eu": (230, 16, 3), "na": (240, 32, 1), "cn": (220, 32, 1)}[region]
    power = round(volts * amps * phases / 1000) if charging else 0
    energy_now = vehicle.trim.usable_kwh * (1 - vehicle.degradation_percent / 100) * level / 100
    miles_added = round(rng.uniform(10, 120), 1)
    hours_to_limit = max(0.0, (limit - level) / 100 * vehicle.trim.usable_kwh / power) if charging else 0.0
    return {
        "battery_heater_on": False,
        "battery_level": level,
        "battery_range": battery_range,
        "charge_amps": amps,
        "charge_current_request": amps,
        "charge_current_request_max": amps,
        "charge_enable_request": True,
        "charge_energy_added": round(rng.uniform(4, 40), 2),
        "charge_limit_soc": limit,
        "charge_limit_soc_max": 100,
        "charge_limit_soc_min": 50,
        "charge_limit_soc_std": limit,
        "charge_miles_added_ideal": miles_added,
        "charge_miles_added_rated": miles_added,
        "charge_port_cold_weather_mode": False,
        "charge_port_color": "<invalid>",
        "charge_port_door_open": charging,
        "charge_port_latch": "Engaged",
        "charge_rate": round(power * 3.3, 1),
        "charger_actual_current": amps if charging else 0,
        "charger_phases": phases if charging else None,
        "charger_pilot_current": amps,
        "charger_power": power,
        "charger_voltage": volts if charging else 2,
        "charging_state": "Charging" if charging else "Disconnected",
        "conn_charge_cable": {"eu": "IEC", "na": "SAE", "cn": "GB_AC"}[region] if charging else "<invalid>",
        "energy_remaining": round(energy_now, 2),
        "est_battery_range": round(battery_range * rng.uniform(0.78, 0.93), 2),
        "fast_charger_brand": "<invalid>",
        "fast_charger_present": False,
        "fast_charger_type": "<invalid>",
        "ideal_battery_range": battery_range,
        "managed_charging_active": False,
        "managed_charging_start_time": None,
        "managed_charging_user_canceled": False,
        "max_range_charge_counter": 0,
        "minutes_to_full_charge": round(hours_to_limit * 60),
        "not_enough_power_to_heat": None,
        "off_peak_charging_enabled": False,
        "off_peak_charging_times": "all_week",
        "off_peak_hours_end_time": 360,
        "pack_voltage": round((800 if vehicle.model.name == "Cybertruck" else 370) * rng.uniform(0.95, 1.05), 2),
        "pack_current": round(-power * 2.7 if charging else rng.uniform(-1.5, 0.5), 1),
        "module_temp_min": round(rng.uniform(14, 20), 1),
        "module_temp_max": round(rng.uniform(20, 26), 1),
        "preconditioning_enabled": False,
        "preconditioning_times": "all_week",
        "scheduled_charging_mode": "Off",
        "scheduled_charging_pending": False,
        "scheduled_charging_start_time": None,
        "scheduled_departure_time": (millis // 1000 // 86_400 + 1) * 86_400 + 7 * 3600,
        "scheduled_departure_time_minutes": 420,
        "supercharger_session_trip_planner": False,
        "time_to_full_charge": round(hours_to_limit, 2),
        "timestamp": millis,
        "trip_charging": False,
        "usable_battery_level": max(0, level - rng.choice((0, 1, 1, 2))),
        "user_charge_enable_request": None,
    }


def _climate_state(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    outside = round(rng.uniform(-5, 28) * 2) / 2
    return {
        "allow_cabin_overheat_protection": True,
        "battery_heater": False,
        "cabin_overheat_protection": "On",
        "climate_keeper_mode": "off",
        "defrost_mode": 0,
        "driver_temp_setting": 21.0,
        "fan_status": 0,
        "inside_temp": round(outside + rng.uniform(-1, 6), 1),
        "is_auto_conditioning_on": False,
        "is_climate_on": False,
        "is_preconditioning": False,
        "max_avail_temp": 28.0,
        "min_avail_temp": 15.0,
        "outside_temp": outside,
        "passenger_temp_setting": 21.0,
        "seat_heater_left": 0,
        "seat_heater_right": 0,
        "steering_wheel_heater": False,
        "timestamp": millis,
    }


def _closures_state(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    return {
        "df": 0,
        "dr": 0,
        "pf": 0,
        "pr": 0,
        "ft": 0,
        "rt": 0,
        "fd_window": 0,
        "fp_window": 0,
        "rd_window": 0,
        "rp_window": 0,
        "locked": True,
        "sentry_mode": rng.random() < 0.3,
        "timestamp": millis,
    }


def _drive_state(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    return {"power": 0, "shift_state": None, "speed": None, "timestamp": millis}


def _location(vehicle: Vehicle, rng: random.Random, now: datetime) -> dict[str, Any]:
    latitude = round(vehicle.market.latitude + rng.uniform(-0.05, 0.05), 6)
    longitude = round(vehicle.market.longitude + rng.uniform(-0.08, 0.08), 6)
    fields: dict[str, Any] = {
        "gps_as_of": int(now.timestamp()) - rng.randint(5, 60),
        "heading": rng.randint(0, 359),
        "latitude": latitude,
        "longitude": longitude,
        "native_latitude": latitude,
        "native_longitude": longitude,
        "native_location_supported": 1,
        "native_type": "wgs",
    }
    if vehicle.market.region == "cn":
        # China reports GCJ-02 natively; the WGS-84 values come as corrected_* fields.
        fields.update(native_type="gcj", corrected_latitude=latitude, corrected_longitude=longitude)
        fields.update(native_latitude=round(latitude - 0.0021, 6), native_longitude=round(longitude + 0.0045, 6))
    return fields


def _gui_settings(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    american = vehicle.market.country == "US"
    return {
        "gui_24_hour_time": not american,
        "gui_charge_rate_units": "kW",
        "gui_distance_units": "mi/hr" if vehicle.market.imperial else "km/hr",
        "gui_range_display": "Rated",
        "gui_temperature_units": "F" if american else "C",
        "gui_tirepressure_units": "Psi" if american else "Bar",
        "show_range_units": False,
        "timestamp": millis,
    }


def _charge_schedules(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    schedule = {
        "id": 1,
        "name": "Night",
        "days_of_week": 127,
        "start_enabled": True,
        "start_time": 60,
        "end_enabled": False,
        "end_time": 0,
        "one_time": False,
        "enabled": rng.random() < 0.5,
    }
    return {"charge_schedules": [schedule], "max_num_charge_schedules": 10, "next_schedule": False, "timestamp": millis}


def _preconditioning_schedules(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    return {"preconditioning_schedules": [], "max_num_precondition_schedules": 10, "timestamp": millis}


def _vehicle_config(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    offset = datetime.fromtimestamp(millis / 1000, UTC).astimezone(zone(vehicle.market)).utcoffset()
    if vehicle.delivered_on >= date(2023, 3, 1):
        assist = "TeslaAP4"
    else:
        assist = "TeslaAP3" if vehicle.delivered_on >= date(2019, 4, 1) else "TeslaAP2"
    return {
        "can_accept_navigation_requests": True,
        "can_actuate_trunks": True,
        "car_special_type": "base",
        "car_type": vehicle.car_type,
        "charge_port_type": {"eu": "CCS", "na": "US", "cn": "GB"}[vehicle.market.region],
        "driver_assist": assist,
        "efficiency_package": "Default",
        "eu_vehicle": vehicle.market.region == "eu",
        "exterior_color": vehicle.exterior_color,
        "has_air_suspension": vehicle.model.name in ("Model S", "Model X", "Cybertruck"),
        "motorized_charge_port": True,
        "plg": True,
        "rhd": vehicle.market.rhd,
        "roof_color": "RoofColorGlass",
        "third_row_seats": "None",
        "timestamp": millis,
        "trim_badging": vehicle.trim.badging,
        "utc_offset": int(offset.total_seconds()) if offset is not None else 0,
        "wheel_type": vehicle.wheel_type,
    }


def _vehicle_state(vehicle: Vehicle, rng: random.Random, millis: int) -> dict[str, Any]:
    update = vehicle.available_update
    base = vehicle.model.tire_pressure_bar
    pressures = [round(base + rng.uniform(-0.08, 0.05), 3) for _ in range(4)]
    low_tire = rng.random() < 0.1
    if low_tire:
        pressures[2] = round(base - 0.45, 3)
    seconds = millis // 1000
    body: dict[str, Any] = {
        "api_version": 81,
        "autopark_state_v3": "standby",
        "calendar_supported": True,
        "car_version": vehicle.firmware,
        "center_display_state": 0,
        "dashcam_state": "Recording",
        "df": 0,
        "dr": 0,
        "pf": 0,
        "pr": 0,
        "ft": 0,
        "rt": 0,
        "fd_window": 0,
        "fp_window": 0,
        "rd_window": 0,
        "rp_window": 0,
        "is_user_present": False,
        "locked": True,
        "odometer": vehicle.odometer_miles,
        "remote_start": False,
        "sentry_mode": rng.random() < 0.3,
        "sentry_mode_available": True,
        "service_mode": vehicle.in_service,
        "software_update": {
            "download_perc": 100 if update else 0,
            "expected_duration_sec": 2700,
            "install_perc": 1,
            "status": "available" if update else "",
            "version": update or " ",
        },
        "speed_limit_mode": {
            "active": False,
            "current_limit_mph": 85,
            "max_limit_mph": 120,
            "min_limit_mph": 50,
            "pin_code_set": False,
        },
        "timestamp": millis,
        "tpms_rcp_front_value": base,
        "tpms_rcp_rear_value": base,
        "valet_mode": False,
        "vehicle_name": vehicle.display_name,
    }
    for wheel, pressure in zip(("fl", "fr", "rl", "rr"), pressures, strict=True):
        body[f"tpms_pressure_{wheel}"] = pressure
        body[f"tpms_last_seen_pressure_time_{wheel}"] = seconds - rng.randint(60, 3600)
        body[f"tpms_soft_warning_{wheel}"] = low_tire and wheel == "rl"
        body[f"tpms_hard_warning_{wheel}"] = False
    return body


def service_data(vehicle: Vehicle, *, seed: int, anchor: date) -> dict[str, Any]:
    if not vehicle.in_service:
        return {
            "service_status": "not_in_service",
            "service_etc": None,
            "service_visit_number": None,
            "status_id": None,
        }
    rng = _rng(seed, vehicle, "service")
    etc = datetime.combine(anchor + timedelta(days=rng.randint(1, 6)), time(17), tzinfo=UTC)
    return {
        "service_status": "in_service",
        "service_etc": etc.astimezone(zone(vehicle.market)).isoformat(),
        "service_visit_number": f"SV{rng.randint(10_000_000, 99_999_999)}",
        "status_id": 8,
    }


def recent_alerts(vehicle: Vehicle, *, seed: int, anchor: date) -> dict[str, Any]:
    rng = _rng(seed, vehicle, "alerts")
    count = min(len(ALERTS), rng.randint(0, 3) + int(vehicle.age_years(anchor)))
    end = datetime.combine(anchor, time(), tzinfo=UTC)
    stamped = [
        (end - timedelta(seconds=rng.randint(3600, 60 * 86_400), milliseconds=rng.randint(0, 999)), kind)
        for kind in rng.sample(ALERTS, count)
    ]
    stamped.sort(key=lambda pair: pair[0], reverse=True)
    alerts = [
        {
            "name": kind.name,
            "time": moment.isoformat(timespec="milliseconds"),
            "audience": list(kind.audience),
            "user_text": kind.user_text,
        }
        for moment, kind in stamped
    ]
    return {"recent_alerts": alerts}


def release_notes(vehicle: Vehicle, *, seed: int, staged: bool) -> dict[str, Any]:
    """Notes of the installed release, or of the staged one (none staged: an empty list)."""
    rng = _rng(seed, vehicle, "release-notes")
    installed = vehicle.firmware.split(" ")[0]
    shown = vehicle.available_update if staged else installed
    if shown is None:
        return {"release_notes": [], "deployed_version": firmware_number(installed), "staged_version": None}
    notes = [
        {
            "title": title,
            "subtitle": subtitle,
            "description": description,
            "customer_version": shown,
            "icon": "release_notes_icon",
            "show_in_history": True,
            "image_url": f"https://vehicle-files.example/release_notes/{shown}/{index}",
            "light_image_url": f"https://vehicle-files.example/release_notes/{shown}/{index}-light",
        }
        for index, (title, subtitle, description) in enumerate(rng.sample(RELEASE_NOTES, 3))
    ]
    staged_version = vehicle.available_update
    return {
        "release_notes": notes,
        "deployed_version": firmware_number(installed),
        "staged_version": firmware_number(staged_version) if staged_version else None,
        "release_notes_version": firmware_number(shown),
    }
