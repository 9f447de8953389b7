"""Open Charge Map's reference data (`/v3/referencedata`), as its JSON names it.

Connection, current, status, usage and level IDs are OCM's own (shared/reference/logbook-and-battery.md §3
and sample payloads). Operator and data provider IDs are this fake's: real ones are read from the live
`/referencedata`, never assumed.
"""

from __future__ import annotations

from typing import Any

CCS_TYPE_2 = 33
CCS_TYPE_1 = 32
TYPE_2_SOCKET = 25
TYPE_2_TETHERED = 1036
CHADEMO = 2
TYPE_1 = 1
TESLA_SUPERCHARGER = 27
TESLA_MODEL_S_X = 30
SCHUKO = 28

AC_SINGLE_PHASE = 10
AC_THREE_PHASE = 20
DC = 30

OPERATIONAL = 50
PARTLY_OPERATIONAL = 75
NOT_OPERATIONAL = 100
PLANNED = 150
UNKNOWN_STATUS = 0

PUBLIC = 1
PRIVATE_FOR_CUSTOMERS = 6
PUBLIC_MEMBERSHIP = 4
PUBLIC_PAY_AT_LOCATION = 5

OCM_CONTRIBUTORS = 1

KM = 1
MILES = 2

CONNECTION_TYPES: dict[int, dict[str, Any]] = {
    TYPE_1: {"FormalName": "SAE J1772-2009", "IsDiscontinued": False, "IsObsolete": False, "Title": "Type 1 (J1772)"},
    CHADEMO: {
        "FormalName": "IEC 62196-3 Configuration AA",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "CHAdeMO",
    },
    TYPE_2_SOCKET: {
        "FormalName": "IEC 62196-2 Type 2",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "Type 2 (Socket Only)",
    },
    TESLA_SUPERCHARGER: {
        "FormalName": "Tesla Supercharger",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "NACS / Tesla Supercharger",
    },
    SCHUKO: {
        "FormalName": "CEE 7/4",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "CEE 7/4 - Schuko - Type F",
    },
    TESLA_MODEL_S_X: {
        "FormalName": "Tesla Connector",
        "IsDiscontinued": True,
        "IsObsolete": False,
        "Title": "Tesla (Model S/X)",
    },
    CCS_TYPE_1: {
        "FormalName": "IEC 62196-3 Configuration EE",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "CCS (Type 1)",
    },
    CCS_TYPE_2: {
        "FormalName": "IEC 62196-3 Configuration FF",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "CCS (Type 2)",
    },
    TYPE_2_TETHERED: {
        "FormalName": "IEC 62196-2",
        "IsDiscontinued": False,
        "IsObsolete": False,
        "Title": "Type 2 (Tethered Connector)",
    },
}

CURRENT_TYPES: dict[int, dict[str, Any]] = {
    AC_SINGLE_PHASE: {"Description": "Alternating Current - Single Phase", "Title": "AC (Single-Phase)"},
    AC_THREE_PHASE: {"Description": "Alternating Current - Three Phase", "Title": "AC (Three-Phase)"},
    DC: {"Description": "Direct Current", "Title": "DC"},
}

LEVELS: dict[int, dict[str, Any]] = {
    1: {
        "Comments": "Under 2 kW, usually domestic socket types",
        "IsFastChargeCapable": False,
        "Title": "Level 1 : Low (Under 2kW)",
    },
    2: {
        "Comments": "Over 2 kW, usually non-domestic socket type",
        "IsFastChargeCapable": False,
        "Title": "Level 2 : Medium (Over 2kW)",
    },
    3: {"Comments": "40KW and Higher", "IsFastChargeCapable": True, "Title": "Level 3:  High (Over 40kW)"},
}

STATUS_TYPES: dict[int, dict[str, Any]] = {
    UNKNOWN_STATUS: {"IsOperational": None, "IsUserSelectable": True, "Title": "Unknown"},
    OPERATIONAL: {"IsOperational": True, "IsUserSelectable": True, "Title": "Operational"},
    PARTLY_OPERATIONAL: {"IsOperational": True, "IsUserSelectable": True, "Title": "Partly Operational (Mixed)"},
    NOT_OPERATIONAL: {"IsOperational": False, "IsUserSelectable": True, "Title": "Not Operational"},
    PLANNED: {"IsOperational": False, "IsUserSelectable": True, "Title": "Planned For Future Date"},
}

USAGE_TYPES: dict[int, dict[str, Any]] = {
    0: {"IsPayAtLocation": None, "IsMembershipRequired": None, "IsAccessKeyRequired": None, "Title": "(Unknown)"},
    PUBLIC: {"IsPayAtLocation": None, "IsMembershipRequired": None, "IsAccessKeyRequired": None, "Title": "Public"},
    PUBLIC_MEMBERSHIP: {
        "IsPayAtLocation": False,
        "IsMembershipRequired": True,
        "IsAccessKeyRequired": True,
        "Title": "Public - Membership Required",
    },
    PUBLIC_PAY_AT_LOCATION: {
        "IsPayAtLocation": True,
        "IsMembershipRequired": False,
        "IsAccessKeyRequired": False,
        "Title": "Public - Pay At Location",
    },
    PRIVATE_FOR_CUSTOMERS: {
        "IsPayAtLocation": False,
        "IsMembershipRequired": False,
        "IsAccessKeyRequired": False,
        "Title": "Private - For Staff, Visitors or Customers",
    },
}

SUBMISSION_STATUS_TYPES: dict[int, dict[str, Any]] = {
    100: {"IsLive": True, "Title": "Imported and Published"},
    200: {"IsLive": True, "Title": "Submission Published"},
}

COUNTRIES: dict[str, dict[str, Any]] = {
    "FI": {"ID": 79, "ISOCode": "FI", "ContinentCode": "EU", "Title": "Finland"},
    "DE": {"ID": 87, "ISOCode": "DE", "ContinentCode": "EU", "Title": "Germany"},
    "NL": {"ID": 159, "ISOCode": "NL", "ContinentCode": "EU", "Title": "Netherlands"},
    "SE": {"ID": 216, "ISOCode": "SE", "ContinentCode": "EU", "Title": "Sweden"},
}

CC_BY_4 = "Licensed under Creative Commons Attribution 4.0 International (CC BY 4.0)"
DATA_PROVIDERS: dict[int, dict[str, Any]] = {
    OCM_CONTRIBUTORS: {
        "WebsiteURL": "https://openchargemap.org",
        "Comments": None,
        "DataProviderStatusType": {"IsProviderEnabled": True, "ID": 1, "Title": "Manual Data Entry"},
        "IsRestrictedEdit": False,
        "IsOpenDataLicensed": True,
        "IsApprovedImport": True,
        "License": CC_BY_4,
        "DateLastImported": None,
        "Title": "Open Charge Map Contributors",
    },
    18: {
        "WebsiteURL": "https://www.bundesnetzagentur.de",
        "Comments": "Ladesäulenregister",
        "DataProviderStatusType": {"IsProviderEnabled": True, "ID": 20, "Title": "Automated Import"},
        "IsRestrictedEdit": True,
        "IsOpenDataLicensed": True,
        "IsApprovedImport": True,
        "License": "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0)",
        "DateLastImported": "2026-10-02T04:00:00Z",
        "Title": "Bundesnetzagentur.de",
    },
    20: {
        "WebsiteURL": "https://info.nobil.no",
        "Comments": None,
        "DataProviderStatusType": {"IsProviderEnabled": True, "ID": 20, "Title": "Automated Import"},
        "IsRestrictedEdit": True,
        "IsOpenDataLicensed": True,
        "IsApprovedImport": True,
        "License": CC_BY_4,
        "DateLastImported": "2026-10-01T03:30:00Z",
        "Title": "NOBIL",
    },
    27: {
        "WebsiteURL": None,
        "Comments": "Operator-supplied feed",
        "DataProviderStatusType": {"IsProviderEnabled": True, "ID": 20, "Title": "Automated Import"},
        "IsRestrictedEdit": True,
        "IsOpenDataLicensed": False,
        "IsApprovedImport": True,
        "License": "Provided by the network operator for display in Open Charge Map apps; not for redistribution",
        "DateLastImported": "2026-09-28T02:15:00Z",
        "Title": "Operator data feed",
    },
}

OPERATORS: dict[int, dict[str, Any]] = {
    3299: {"Title": "IONITY", "WebsiteURL": "https://ionity.eu", "IsPrivateIndividual": False},
    23: {"Title": "Tesla (Tesla-only charging)", "WebsiteURL": "https://www.tesla.com", "IsPrivateIndividual": False},
    74: {"Title": "Fastned", "WebsiteURL": "https://fastnedcharging.com", "IsPrivateIndividual": False},
    3392: {"Title": "K-Lataus", "WebsiteURL": "https://www.k-lataus.fi", "IsPrivateIndividual": False},
    3534: {"Title": "Recharge", "WebsiteURL": "https://rechargeinfra.com", "IsPrivateIndividual": False},
    86: {"Title": "EnBW (D)", "WebsiteURL": "https://www.enbw.com", "IsPrivateIndividual": False},
    3296: {"Title": "Virta", "WebsiteURL": "https://www.virta.global", "IsPrivateIndividual": False},
    3401: {"Title": "Helen", "WebsiteURL": "https://www.helen.fi", "IsPrivateIndividual": False},
    3479: {"Title": "Plugit", "WebsiteURL": "https://www.plugit.fi", "IsPrivateIndividual": False},
    103: {"Title": "Allego", "WebsiteURL": "https://www.allego.eu", "IsPrivateIndividual": False},
    80: {"Title": "Shell Recharge", "WebsiteURL": "https://shellrecharge.com", "IsPrivateIndividual": False},
    3390: {
        "Title": "Vattenfall InCharge",
        "WebsiteURL": "https://incharge.vattenfall.com",
        "IsPrivateIndividual": False,
    },
    3512: {"Title": "Mer", "WebsiteURL": "https://se.mer.eco", "IsPrivateIndividual": False},
    3420: {"Title": "Circle K", "WebsiteURL": "https://www.circlek.se", "IsPrivateIndividual": False},
    3301: {"Title": "Stadtwerke München (SWM)", "WebsiteURL": "https://www.swm.de", "IsPrivateIndividual": False},
    3455: {"Title": "Aral pulse", "WebsiteURL": "https://www.aral.de", "IsPrivateIndividual": False},
    3481: {"Title": "Lidl", "WebsiteURL": "https://www.lidl.de", "IsPrivateIndividual": False},
    1: {"Title": "(Unknown Operator)", "WebsiteURL": None, "IsPrivateIndividual": False},
}


def _with_ids(table: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**value, "ID": key} for key, value in sorted(table.items())]


def reference_data() -> dict[str, Any]:
    """The `/referencedata` document (the parts this fake's sites use)."""
    return {
        "ChargerTypes": _with_ids(LEVELS),
        "ConnectionTypes": _with_ids(CONNECTION_TYPES),
        "CurrentTypes": _with_ids(CURRENT_TYPES),
        "Countries": sorted(COUNTRIES.values(), key=lambda country: country["ID"]),
        "DataProviders": _with_ids(DATA_PROVIDERS),
        "Operators": [
            {
                **operator,
                "ID": operator_id,
                "Comments": None,
                "PhonePrimaryContact": None,
                "PhoneSecondaryContact": None,
                "AddressInfo": None,
                "BookingURL": None,
                "ContactEmail": None,
                "FaultReportEmail": None,
                "IsRestrictedEdit": False,
            }
            for operator_id, operator in sorted(OPERATORS.items())
        ],
        "StatusTypes": _with_ids(STATUS_TYPES),
        "SubmissionStatusTypes": _with_ids(SUBMISSION_STATUS_TYPES),
        "UsageTypes": _with_ids(USAGE_TYPES),
        "UserCommentTypes": [{"ID": 10, "Title": "General Comment"}],
        "CheckinStatusTypes": [
            {"ID": 10, "IsPositive": True, "IsAutomatedCheckin": False, "Title": "Charged Successfully"}
        ],
    }
