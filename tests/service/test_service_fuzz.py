"""Property-based run of the OpenAPI (schemathesis 4) on SQLite and PostgreSQL: no client input gets a 5xx.

Every operation of the service's OpenAPI gets a bounded, seeded (derandomised) number of generated requests —
valid ones (with the ids of a real town in the path, so they reach the database) and invalid ones — with the
town's API key and the admin token, over HTTP to the real app (uvicorn in a thread). Each answer must not be a
server error and must conform to the documented status codes, content types and body schemas.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_helpers import ADMIN, NOW, make_town, settings_for

from chisan.service.testing import ServerThread

EXAMPLES = 25
"""Generated requests per operation and generation mode (positive, negative)."""
FEW = {"POST /api/v1/schedules": 3}
"""Operations that run a schedule (an LP) get fewer."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _ids(town) -> dict[str, int | str]:
    return {
        "station_id": town.stations[0],
        "charger_id": town.chargers[0],
        "vehicle_id": town.vehicles[0],
        "member_id": town.members[0],
        "booking_id": town.bookings[0],
        "key_id": 1,
        "schedule_id": 1,
        "slug": town.slug,
        "town": town.slug,
        "municipality_id": town.municipality_id,
    }


def _examples(strategy, n: int, label: str, base_url: str, session, codes: Counter, failures: list[str]):
    """A hypothesis test that sends ``n`` cases of ``strategy`` and records each answer and failed check."""

    @hypothesis.settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        codes[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as err:  # collected, all reported at the end
            failures.append(f"{label}: {response.status_code} {str(err)[:600]}")

    return run


def _fuzz(database_url: str) -> tuple[Counter, list[str], float]:
    """Run every operation; returns (answers per status code, failures, seconds)."""
    from chisan.service.main import create_app

    app = create_app(settings_for(database_url), clock=lambda: NOW, start_ocpp=False, start_scheduler=False)
    started = time.monotonic()
    failures: list[str] = []
    codes: Counter = Counter()
    with ServerThread(app) as server, httpx.Client(base_url=server.base_url) as client:
        town = make_town(client, "fuzz", stations=1, vehicles_per_station=2, chargers_per_station=1, soc_fraction=0.8)
        booking = town.post(
            "/api/v1/bookings",
            {
                "vehicle_id": town.vehicles[1],
                "start_at": "2025-06-02T10:00:00+09:00",
                "end_at": "2025-06-02T12:00:00+09:00",
                "distance_km": 10,
            },
        ).json()
        town.bookings.append(booking["id"])
        assert town.post("/api/v1/schedules", None, 201).status_code == 201
        ids = _ids(town)
        schema = schemathesis.openapi.from_dict(app.openapi())
        session = requests.Session()
        headers = {"X-API-Key": town.key, "X-Admin-Token": ADMIN}
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            names = re.findall(r"{(\w+)}", operation.path)
            strategies = [
                operation.as_strategy(headers=headers, path_parameters={n: ids[n] for n in names}),
                operation.as_strategy(schemathesis.GenerationMode.NEGATIVE, headers=headers),
            ]
            for strategy in strategies:
                run = _examples(strategy, FEW.get(label, EXAMPLES), label, server.base_url, session, codes, failures)
                # Unsatisfiable: no invalid request of this operation can be generated (e.g. it takes no input)
                with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                    run()
    return codes, failures, time.monotonic() - started


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_openapi_fuzz_has_no_server_errors(backend, request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'fuzz.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg").create_database("fuzz")
    )
    codes, failures, seconds = _fuzz(url)
    calls = sum(codes.values())
    print(f"\n{backend}: {calls} generated requests in {seconds:.1f} s, {len(failures)} failures; {dict(codes)}")
    assert calls > 1000  # every operation ran (≈ 37 operations × 2 modes × up to 25 examples)
    assert sum(n for code, n in codes.items() if code < 300) > 100  # valid requests reached the database
    assert sum(n for code, n in codes.items() if code >= 500) == 0
    assert failures == [], "\n".join(failures[:20])
