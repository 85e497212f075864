"""OpenAPI-driven fuzzing of the JSON API with schemathesis: no 5xx, documented bodies.

The schema is whatever ``/api/openapi.json`` of the app holds when the test runs (routes
added later are fuzzed too), loaded in-process (ASGI) from the small clinic of
``clinic_helpers.build_world``, on SQLite and PostgreSQL. Every operation gets requests
generated from its schema, valid ones and (schemathesis' negative mode) invalid ones:

- signed in as a therapist (alice's session cookie; her CSRF token in ``X-CSRF-Token``):
  each generated request is sent as generated, and again with its ``{name}_id`` path
  parameters pointed at alice's own objects, so the handlers behind the permission check
  run on real rows, not only on 404s;
- anonymously (no cookie): every operation but the schema itself answers 401 or 422.

Hard requirement: ``not_a_server_error`` on every response. Also checked, and reported
per operation by its own test: the body matches the documented response schema where one
is declared (``response_schema_conformance``) with a documented content type. A failing
operation is reported by method, path and the request's shape (which parts were sent,
never their values).

Deterministic (``derandomize``, no example database, no shrinking) and bounded:
``ATTUNEMENT_FUZZ_EXAMPLES`` examples per operation and mode (default 6);
``benchmarks/api_fuzz.py`` runs the same with many more.

(The ``schemathesis.pytest`` lazy loader does not work with pytest 9, so the operations
are walked here with ``APIOperation.as_strategy`` and Hypothesis directly.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from clinic_helpers import World, page_csrf  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import InvalidArgument, Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from attunement.web.deps import SESSION_COOKIE  # noqa: E402

EXAMPLES = int(os.environ.get("ATTUNEMENT_FUZZ_EXAMPLES", "6"))
CONFORMANCE = [response_schema_conformance, content_type_conformance]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: the user whose session the signed-in run uses, and whose objects the ids point at
USER = "alice"


def _settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: reported as found
        suppress_health_check=list(HealthCheck),
    )


def shape(case: Any) -> str:
    """The request's shape without its values (field names only)."""
    parts = [f"{case.method.upper()} {case.path}"]
    for name in ("path_parameters", "query", "headers", "cookies"):
        value = getattr(case, name, None)
        if value:
            parts.append(f"{name}={sorted(value)}")
    body = getattr(case, "body", None)
    if isinstance(body, dict):
        parts.append(f"body keys={sorted(body)}")
    elif body is not None and type(body).__name__ != "NotSet":
        parts.append(f"body={type(body).__name__}")
    return " ".join(parts)


def describe(exc: BaseException) -> str:
    """What failed, in one line: the check titles and their first message lines."""
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    out = []
    for e in found:
        title = getattr(e, "title", type(e).__name__)
        text = (getattr(e, "message", None) or str(e)).strip()
        out.append(f"{title}: {text.splitlines()[0][:160]}" if text else str(title))
    return "; ".join(out)


@dataclass
class Findings:
    operations: list[str] = field(default_factory=list)
    #: one line per operation and mode that hit a 5xx (or an exception in the app)
    server_errors: list[str] = field(default_factory=list)
    #: "operation: problem" -> the shape of the first request that showed it
    conformance: dict[str, str] = field(default_factory=dict)
    #: operations whose request reached a real object of the user (2xx with own ids)
    reached: set[str] = field(default_factory=set)
    requests: int = 0


def _runner(strategy: Any, send: Callable[[Any], None], failed: list[Any]) -> Any:
    """The Hypothesis test of one operation and mode; the failing case lands in ``failed``."""

    @_settings()
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            send(case)
        except BaseException:
            failed.append(case)
            raise

    return run


def fuzz(
    schema: Any, send: Callable[[Any], None], modes: tuple[GenerationMode, ...], out: Findings
) -> Findings:
    """Run ``send`` on generated cases of every operation; a raised error ends that
    operation's run and is recorded in ``out.server_errors``."""
    for result in schema.get_all_operations():
        operation = result.ok()
        out.operations.append(operation.label)
        for mode in modes:
            failed: list[Any] = []
            run = _runner(operation.as_strategy(generation_mode=mode), send, failed)
            try:
                run()
            except (KeyboardInterrupt, SystemExit):
                raise
            except Unsatisfiable:
                continue  # no invalid request exists (an operation without parameters)
            except InvalidArgument:
                raise  # a mistake in this harness, not in the app
            except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                where = shape(failed[-1]) if failed else operation.label
                out.server_errors.append(
                    f"{operation.label} [{mode.value}]: {describe(exc)} — {where}"
                )
    assert out.operations, "the OpenAPI document lists no operation"
    return out


def own_ids(world: World, path_parameters: dict[str, Any]) -> dict[str, Any] | None:
    """``{name}_id`` path parameters pointed at the user's own objects, found generically
    in the world (``clients``, ``sessions``, … or any ``<name>s`` dict added to it)."""
    out = dict(path_parameters)
    changed = False
    for name in path_parameters:
        table = getattr(world, name.removesuffix("_id") + "s", None)
        if name.endswith("_id") and isinstance(table, dict) and USER in table:
            out[name] = table[USER]
            changed = True
    return out if changed else None


def fuzz_signed_in(world: World, schema: Any) -> Findings:
    browser = world.browser(USER)
    cookies = {SESSION_COOKIE: browser.cookies.get(SESSION_COOKIE)}
    headers = {"X-CSRF-Token": page_csrf(browser)}
    assert cookies[SESSION_COOKIE]
    found = Findings()

    def one(case: Any) -> int:
        response = case.call(headers=headers, cookies=cookies)
        found.requests += 1
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
        try:
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # noted; the run goes on
            found_in = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
            titles = ", ".join(
                sorted({str(getattr(e, "title", type(e).__name__)) for e in found_in})
            )
            key = f"{case.operation.label}: {titles}"  # one entry per operation and kind
            found.conformance.setdefault(key, f"{describe(exc)} — {shape(case)}")
        return int(response.status_code)

    def send(case: Any) -> None:
        one(case)
        if case.path_parameters and case.method.upper() != "DELETE":
            real = own_ids(world, case.path_parameters)
            if real is not None:
                case.path_parameters = real
                if one(case) < 300:
                    found.reached.add(case.operation.label)

    return fuzz(schema, send, MODES, found)


def fuzz_anonymous(world: World, schema: Any) -> Findings:
    found = Findings()

    def send(case: Any) -> None:
        response = case.call()
        found.requests += 1
        case.validate_response(response, checks=[not_a_server_error])
        if case.path != "/api/openapi.json":
            assert response.status_code in (401, 422), (case.operation.label, response.status_code)

    return fuzz(schema, send, (GenerationMode.POSITIVE,), found)


def load_schema(app: Any) -> Any:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    schema.config.generation.update(max_examples=EXAMPLES, deterministic=True)
    return schema


@pytest.fixture(scope="module")
def signed_in(world: World) -> Findings:
    return fuzz_signed_in(world, load_schema(world.app))


def test_api_no_server_error_signed_in(signed_in: Findings) -> None:
    assert not signed_in.server_errors, "\n".join(signed_in.server_errors)
    # the ids reached real objects (at least for the routes of the first slice)
    assert "GET /api/sessions/{session_id}" in signed_in.reached
    assert "GET /api/clients/{client_id}" in signed_in.reached


def test_api_responses_match_documented_schema(signed_in: Findings) -> None:
    problems = [f"{k} — {v}" for k, v in sorted(signed_in.conformance.items())]
    assert not problems, "\n".join(problems)


def test_api_no_server_error_anonymous(world: World) -> None:
    found = fuzz_anonymous(world, load_schema(world.app))
    assert not found.server_errors, "\n".join(found.server_errors)
    assert found.requests >= len(found.operations)
