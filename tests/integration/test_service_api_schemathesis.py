"""schemathesis against the service's OpenAPI spec: no request it generates for any operation, with a valid
token, gets a server error, and every operation that declares a token refuses requests without a valid one
(schemathesis' ``ignored_auth`` check). Jobs are only queued (``job_workers=0``): a fuzzer must not start
billion-person runs; the jobs themselves are tested in test_service_api.py."""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import ignored_auth, not_a_server_error  # noqa: E402

from hygeia.service import ServiceSettings, create_app  # noqa: E402
from hygeia.service._auth import create_token  # noqa: E402

EXAMPLES = 3  # per operation; ~45 operations


def test_no_server_error_and_auth_enforced(tmp_path: Path) -> None:
    from hygeia.population.generate import generate

    generate(n=5, seed=1, out=tmp_path / "runs" / "demo", quiet=True)
    app = create_app(ServiceSettings(data_root=tmp_path, job_workers=0, max_upload_bytes=4096))
    token = create_token(app.state.store, "fuzzer-admin-0f9e8d7c6b5a", "admin")
    assert TestClient(app).get("/api/v1/openapi.json").status_code == 401  # the spec needs a token too
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, headers={"Authorization": f"Bearer {token}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def check(case: object) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"},  # type: ignore[attr-defined]
                                   checks=[not_a_server_error, ignored_auth])

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
    audit = app.state.store.audit_log(limit=100_000)
    assert len(audit) > 2 * len(operations)  # requests were made: changes, downloads and refusals are audited
    assert sum(e["status"] == 401 for e in audit) >= len(operations) - 1  # ignored_auth's requests without a token
    assert app.state.store.list(kind="generate")  # some generated job requests were valid and queued
