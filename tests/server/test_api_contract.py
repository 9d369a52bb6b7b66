"""The API keeps its published contract under fuzzing: schemathesis, every check, against a
real ``sygesikring-server serve`` on SQLite with a live desk token (and a feed token for the
CPR events), fixed seed, bounded in time. Any 5xx, any undocumented status code or body, any
schema-valid request refused or invalid one accepted fails the test.

The number of generated cases is printed (``-s`` shows it) and must not be trivially small.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
from srvkit import MUNI_A, MUNI_B, ServerProcess, load_records, make_person

from sygesikring_tui.server.storage import Storage

SEED = 20261201
DESK_SECONDS = 110  # fuzzing every operation with the desk's token
FEED_SECONDS = 40  # then the CPR event feed with the feed's token


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contract")
    db = str(tmp / "server.db")
    storage = Storage(db)
    rng = random.Random(5)
    storage.load(load_records([make_person(rng, MUNI_A) for _ in range(5)] + [make_person(rng, MUNI_B)]))
    desk = storage.add_desk("fuzz desk", MUNI_A)[1]
    feed = storage.add_desk("fuzz feed", None, role="feed")[1]
    storage.close()
    srv = ServerProcess(db, tmp / "home").start()
    try:
        yield srv, desk, feed, tmp
    finally:
        srv.stop()


# One allowance, for one state-dependent answer: an op_id this desk already used with another
# body is refused as a whole batch with 422 (the desk then sends one by one). Schemathesis
# reuses short op_ids ("0") across cases, so a schema-valid push may meet its own earlier one.
#
# And the long-poll's ``wait`` is fixed at 0: a generated wait of up to a minute per request
# would spend the time budget on waiting (its behaviour has its own tests).
CONFIG = """
[parameters]
"query.wait" = 0

[[operations]]
include-path = "/v1/push"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


def _schemathesis(url: str, token: str, seconds: int, tmp, *extra: str) -> tuple[int, str]:
    config = tmp / "schemathesis.toml"
    config.write_text(CONFIG)
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json",
           "-H", f"Authorization: Bearer {token}", "--checks", "all", "--seed", str(SEED),
           "--max-examples", "60", "--max-time", str(seconds), "--workers", "1",
           "--generation-database", "none", "--request-timeout", "60", "--no-color", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=tmp)
    (tmp / f"schemathesis-{token[:4]}.txt").write_text(done.stdout + done.stderr)
    return done.returncode, done.stdout + done.stderr


def _cases(out: str) -> int:
    m = re.search(r"(\d+) generated", out)
    assert m, out[-3000:]
    return int(m.group(1))


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server):
    srv, desk, feed, tmp = live_server
    rc, out = _schemathesis(srv.url, desk, DESK_SECONDS, tmp)
    desk_cases = _cases(out)
    print(f"\nschemathesis, desk token: {desk_cases} cases")
    assert rc == 0, out[-6000:]
    rc, out = _schemathesis(srv.url, feed, FEED_SECONDS, tmp, "--include-path", "/v1/cpr-events")
    feed_cases = _cases(out)
    print(f"schemathesis, feed token on /v1/cpr-events: {feed_cases} cases")
    assert rc == 0, out[-6000:]
    assert desk_cases + feed_cases >= 500
    assert "Traceback" not in srv.output()  # not one unhandled error logged


def test_the_openapi_document_names_every_error_answer_and_its_body(sqlite_env):
    from fastapi.testclient import TestClient

    doc = TestClient(sqlite_env.app).get("/openapi.json").json()
    answers = {(path, method): set(op["responses"]) for path, ops in doc["paths"].items()
               for method, op in ops.items()}
    assert answers[("/v1/push", "post")] >= {"200", "400", "401", "403", "409", "413", "422", "500"}
    assert answers[("/v1/persons/{cpr}", "get")] >= {"200", "401", "403", "404", "422", "500"}
    assert answers[("/v1/changes", "get")] >= {"200", "401", "403", "422", "500"}
    assert answers[("/v1/cpr-events", "post")] >= {"200", "400", "401", "403", "413", "422", "500"}
    invalid = doc["paths"]["/v1/push"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert invalid["$ref"].endswith("/InvalidOut")
    assert set(doc["components"]["schemas"]["InvalidOut"]["required"]) == {"detail", "errors"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
