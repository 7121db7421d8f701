"""Schemathesis on the Soft Binding Resolution routes: no generated request may produce a 5xx,
and every answer fits the schema the routes declare."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from service.app import create_app
from service.schema import upgrade
from service.settings import Settings

_tmp = Path(tempfile.mkdtemp(prefix="provkit-sbr-fuzz-"))
_settings = Settings(data_dir=_tmp / "var")
_settings.data_dir.mkdir(parents=True, exist_ok=True)
upgrade(_settings.db_url)
_app = create_app(_settings)
_KEY, _ = _app.state.services.keys.create(["verify"], "fuzz")

schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.include(path_regex="^/v1/(matches|manifests|services)/").parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_resolution_routes_never_fail(case: schemathesis.Case) -> None:
    response = case.call(headers={"X-API-Key": _KEY})
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
    if response.status_code == 200 and case.path != "/v1/manifests/{manifestId}":
        case.validate_response(response)
