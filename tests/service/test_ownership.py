"""Ownership (issue 11 #1, #9, #10): every analysis, job, upload reference and feedback belongs to the key that
made it. Another key gets 404 through every route that names an id, an admin key sees everything, the dedup
cache never hands out another key's record, uploads are reference-counted, and feedback from non-admin keys
reaches retraining only after review."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from realeyes.cli import main
from realeyes.service.auth import create_key
from realeyes.service.state import ServiceState
from service.conftest import ClientFactory
from service.service_media import jpeg_bytes

_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


class Keys:
    """Three keys on one service: two tenants and an admin."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.state: ServiceState = client.app.state.realeyes  # type: ignore[attr-defined]
        database = self.state.database
        self.alice = {"Authorization": f"Bearer {create_key(database, 'alice', ['analyze'])}"}
        self.bob = {"Authorization": f"Bearer {create_key(database, 'bob', ['analyze'])}"}
        self.root = {"Authorization": f"Bearer {create_key(database, 'root', ['analyze', 'admin'])}"}

    def upload(self, who: dict[str, str], data: bytes, name: str) -> Any:
        return self.client.post("/v1/analyses", files={"file": (name, data, "image/jpeg")}, headers=who)

    def hold_jobs(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Jobs stay queued (nothing is delivered to the worker) until `run_job`."""
        monkeypatch.setattr(self.state.queue, "enqueue", lambda job_id: None)

    def submit(self, who: dict[str, str], files: list[tuple[str, bytes]]) -> dict[str, Any]:
        response = self.client.post(
            "/v1/jobs", files=[("files", (name, data, "image/jpeg")) for name, data in files], headers=who
        )
        assert response.status_code == 202, response.text
        return dict(response.json())

    def run_job(self, job_id: str) -> None:
        assert self.state.runner.run(job_id)


@pytest.fixture
def keys(make_client: ClientFactory, database_url: str) -> Keys:
    return Keys(make_client(database_url=database_url, auth="required"))


def _routes_naming(client: TestClient, parameter: str) -> list[tuple[str, str]]:
    """(method, path template) of every API route with this path parameter, from the app's OpenAPI document:
    a route added later is covered too."""
    paths: dict[str, dict[str, Any]] = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        if f"{{{parameter}}}" in path
        for method in sorted(operations)
    ]


def _call(client: TestClient, method: str, template: str, values: dict[str, str], headers: dict[str, str]) -> Any:
    path = _PATH_PARAM.sub(lambda match: values.get(match.group(1), "x"), template)
    body = {"label": "authentic", "note": "mine now", "decision": "accept"} if method == "POST" else None
    return client.request(method, path, json=body, headers=headers)


def test_another_key_cannot_reach_an_analysis_through_any_route(keys: Keys) -> None:
    client = keys.client
    created = keys.upload(keys.alice, jpeg_bytes(seed=601), "alice-holiday.jpg")
    assert created.status_code == 201
    analysis = created.json()
    feedback = client.post(
        f"/v1/analyses/{analysis['id']}/feedback", json={"label": "authentic"}, headers=keys.alice
    ).json()
    map_name = next(iter(analysis["maps"]), "ela")
    values = {"analysis_id": analysis["id"], "name": map_name, "feedback_id": feedback["id"]}

    routes = _routes_naming(client, "analysis_id")
    assert {path for _method, path in routes} >= {
        "/v1/analyses/{analysis_id}",
        "/v1/analyses/{analysis_id}/image",
        "/v1/analyses/{analysis_id}/thumbnail.jpg",
        "/v1/analyses/{analysis_id}/maps/{name}.png",
        "/v1/analyses/{analysis_id}/feedback",
    }
    unknown = {**values, "analysis_id": "0" * 32}
    for method, template in routes:
        refused = _call(client, method, template, values, keys.bob)
        assert refused.status_code == 404, (method, template, refused.text)
        # Exactly what an id that does not exist gets: nothing tells bob that alice's id is real.
        missing = _call(client, method, template, unknown, keys.bob)
        assert refused.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
        expected = missing.json()["error"]["message"].replace("0" * 32, analysis["id"])
        assert refused.json()["error"]["message"] == expected
        assert "alice" not in refused.text

    listed = client.get("/v1/analyses", headers=keys.bob).json()
    assert listed["items"] == [] and listed["total"] == 0
    # Nothing bob tried changed alice's analysis; she and the admin still see it, with only her feedback.
    own = client.get(f"/v1/analyses/{analysis['id']}", headers=keys.alice).json()
    assert [item["id"] for item in own["feedback"]] == [feedback["id"]] and own["feedback"][0]["note"] == ""
    assert client.get(analysis["image_url"], headers=keys.alice).status_code == 200
    assert client.get("/v1/analyses", headers=keys.alice).json()["total"] == 1
    assert client.get(f"/v1/analyses/{analysis['id']}", headers=keys.root).status_code == 200
    assert client.get(analysis["image_url"], headers=keys.root).status_code == 200
    assert client.get("/v1/analyses", headers=keys.root).json()["total"] == 1
    assert client.delete(f"/v1/analyses/{analysis['id']}", headers=keys.root).status_code == 204
    assert client.get(f"/v1/analyses/{analysis['id']}", headers=keys.alice).status_code == 404


def test_another_key_cannot_read_or_cancel_a_job(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    client = keys.client
    keys.hold_jobs(monkeypatch)
    job = keys.submit(keys.alice, [("a.jpg", jpeg_bytes(seed=611))])
    routes = _routes_naming(client, "job_id")
    assert set(routes) >= {("GET", "/v1/jobs/{job_id}"), ("DELETE", "/v1/jobs/{job_id}")}
    for method, template in routes:
        refused = _call(client, method, template, {"job_id": job["id"]}, keys.bob)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found", (method, template)
    assert client.get(f"/v1/jobs/{job['id']}", headers=keys.alice).json()["status"] == "queued"  # not cancelled

    keys.run_job(job["id"])
    done = client.get(f"/v1/jobs/{job['id']}", headers=keys.alice).json()
    assert done["status"] == "succeeded"
    analysis_id = done["result"]["items"][0]["analysis_id"]
    assert client.get(f"/v1/jobs/{job['id']}", headers=keys.bob).status_code == 404
    assert client.get(f"/v1/analyses/{analysis_id}", headers=keys.bob).status_code == 404  # the job's analyses too
    assert client.get(f"/v1/analyses/{analysis_id}", headers=keys.alice).json()["filename"] == "a.jpg"
    assert client.get(f"/v1/jobs/{job['id']}", headers=keys.root).json()["status"] == "succeeded"

    second = keys.submit(keys.alice, [("b.jpg", jpeg_bytes(seed=612))])
    assert client.delete(f"/v1/jobs/{second['id']}", headers=keys.root).json()["status"] == "cancelled"


def test_the_dedup_cache_never_hands_out_another_keys_record(keys: Keys) -> None:
    client = keys.client
    data = jpeg_bytes(seed=621)
    first = keys.upload(keys.alice, data, "alice-private-name.jpg")
    assert first.status_code == 201
    alice = first.json()

    second = keys.upload(keys.bob, data, "bob.jpg")
    # A record of bob's own, answered like a fresh analysis: not alice's id, name or "cached" (which would tell
    # bob that someone uploaded these bytes before).
    assert second.status_code == 201, second.text
    bob = second.json()
    assert bob["id"] != alice["id"] and bob["filename"] == "bob.jpg" and bob["cached"] is False
    assert alice["id"] not in second.text and "alice" not in second.text
    assert (bob["label"], bob["p_fake"], bob["sha256"]) == (alice["label"], alice["p_fake"], alice["sha256"])
    for url in [bob["image_url"], bob["thumbnail_url"], *bob["maps"].values()]:
        assert client.get(url, headers=keys.bob).status_code == 200, url
    assert [item["id"] for item in client.get("/v1/analyses", headers=keys.bob).json()["items"]] == [bob["id"]]

    again = keys.upload(keys.bob, data, "bob-again.jpg")  # bob's own cache answers bob with bob's record
    assert again.status_code == 200 and again.json()["id"] == bob["id"] and again.json()["cached"] is True
    mine = keys.upload(keys.alice, data, "other.jpg")
    assert mine.status_code == 200 and mine.json()["id"] == alice["id"]
    assert mine.json()["filename"] == "alice-private-name.jpg"
    assert client.get("/v1/analyses", headers=keys.root).json()["total"] == 2

    predicted = client.post("/predict", files={"file": ("x.jpg", data, "image/jpeg")}, headers=keys.root)
    assert predicted.json()["analysis_id"] not in (alice["id"], bob["id"])  # /predict stores per key as well


def test_uploads_are_reference_counted(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    client, files = keys.client, keys.state.files
    data = jpeg_bytes(seed=631)
    alice = keys.upload(keys.alice, data, "a.jpg").json()
    upload = files.upload_path(alice["sha256"])
    bob = keys.upload(keys.bob, data, "b.jpg").json()

    # Two analyses hold the bytes: deleting one keeps them.
    assert client.delete(f"/v1/analyses/{bob['id']}", headers=keys.bob).status_code == 204
    assert upload.exists() and client.get(alice["image_url"], headers=keys.alice).status_code == 200

    # A queued job of another key holds them too: alice deleting her analysis must not break bob's job.
    keys.hold_jobs(monkeypatch)
    job = keys.submit(keys.bob, [("queued.jpg", data)])
    assert client.delete(f"/v1/analyses/{alice['id']}", headers=keys.alice).status_code == 204
    assert upload.exists()
    keys.run_job(job["id"])
    done = client.get(f"/v1/jobs/{job['id']}", headers=keys.bob).json()
    item = done["result"]["items"][0]
    assert done["status"] == "succeeded" and "error" not in item, item
    # The finished job let go; the analysis it made holds the bytes until it is deleted.
    assert upload.exists()
    assert client.delete(f"/v1/analyses/{item['analysis_id']}", headers=keys.bob).status_code == 204
    assert not upload.exists()

    # A cancelled queued job lets go of its files at once.
    lone = jpeg_bytes(seed=632)
    cancelled = keys.submit(keys.alice, [("lone.jpg", lone)])
    lone_path = files.upload_path(keys.state.analyses.files.put_upload(lone))
    assert client.delete(f"/v1/jobs/{cancelled['id']}", headers=keys.alice).json()["status"] == "cancelled"
    assert not lone_path.exists()


def test_unreviewed_feedback_never_reaches_retraining(keys: Keys) -> None:
    from realeyes.mlops.retrain import feedback_samples

    client, state = keys.client, keys.state
    bob = keys.upload(keys.bob, jpeg_bytes(seed=641), "b.jpg").json()
    given = client.post(
        f"/v1/analyses/{bob['id']}/feedback", json={"label": "ai-generated", "note": "trust me"}, headers=keys.bob
    )
    assert given.status_code == 201 and given.json()["status"] == "pending"
    assert feedback_samples(state.database, state.files) == []

    # Reviewing takes the admin scope.
    assert client.get("/v1/feedback", headers=keys.bob).status_code == 403
    review = f"/v1/feedback/{given.json()['id']}/review"
    assert client.post(review, json={"decision": "accept"}, headers=keys.bob).status_code == 403
    pending = client.get("/v1/feedback", headers=keys.root).json()
    assert [item["id"] for item in pending["items"]] == [given.json()["id"]] and pending["total"] == 1

    rejected = client.post(review, json={"decision": "reject"}, headers=keys.root)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert feedback_samples(state.database, state.files) == []
    accepted = client.post(review, json={"decision": "accept"}, headers=keys.root)
    assert accepted.json()["status"] == "accepted" and accepted.json()["reviewed_at"]
    samples = feedback_samples(state.database, state.files)
    assert [(sample.label, sample.path) for sample in samples] == [(1, str(state.files.upload_path(bob["sha256"])))]
    assert client.get("/v1/feedback", headers=keys.root).json()["total"] == 0
    assert client.post("/v1/feedback/nope/review", json={"decision": "accept"}, headers=keys.root).status_code == 404

    # An admin key's own label counts at once.
    alice = keys.upload(keys.alice, jpeg_bytes(seed=642), "a.jpg").json()
    by_admin = client.post(f"/v1/analyses/{alice['id']}/feedback", json={"label": "authentic"}, headers=keys.root)
    assert by_admin.json()["status"] == "accepted"
    assert len(feedback_samples(state.database, state.files)) == 2


def test_the_feedback_review_cli_lists_pending_and_accepts(make_client: ClientFactory, tmp_path: Path) -> None:
    from realeyes.mlops.retrain import feedback_samples

    url = f"sqlite:///{tmp_path / 'review.db'}"
    client = make_client(database_url=url)
    state: ServiceState = client.app.state.realeyes  # type: ignore[attr-defined]
    ids = []
    for seed, label in ((651, "authentic"), (652, "ai-generated")):
        analysis = client.post("/v1/analyses", files={"file": ("x.jpg", jpeg_bytes(seed=seed), "image/jpeg")}).json()
        given = client.post(f"/v1/analyses/{analysis['id']}/feedback", json={"label": label, "note": "\x1b[31mred"})
        assert given.json()["status"] == "pending"  # anonymous (loopback, no key) is not an admin either
        ids.append(given.json()["id"])
    env = {"REALEYES_DATABASE_URL": url, "REALEYES_DATA_DIR": str(tmp_path / "data")}
    listed = CliRunner().invoke(main, ["feedback", "review"], env=env)
    assert listed.exit_code == 0, listed.output
    assert all(feedback_id in listed.stdout for feedback_id in ids) and "\x1b" not in listed.stdout

    decided = CliRunner().invoke(main, ["feedback", "review", "--accept", ids[0], "--reject", ids[1]], env=env)
    assert decided.exit_code == 0, decided.output
    assert f"{ids[0]}\taccepted" in decided.stdout and f"{ids[1]}\trejected" in decided.stdout
    assert [sample.label for sample in feedback_samples(state.database, state.files)] == [0]
    left = CliRunner().invoke(main, ["feedback", "review"], env=env)
    assert not any(feedback_id in left.stdout for feedback_id in ids)
    unknown = CliRunner().invoke(main, ["feedback", "review", "--accept", "nope"], env=env)
    assert unknown.exit_code != 0 and "no feedback with id nope" in unknown.output


def test_without_a_key_only_what_was_made_without_one_is_seen(make_client: ClientFactory, database_url: str) -> None:
    client = make_client(database_url=database_url)  # loopback: keys optional
    keys = Keys(client)
    keyed = keys.upload(keys.alice, jpeg_bytes(seed=661), "keyed.jpg").json()
    anonymous = client.post("/v1/analyses", files={"file": ("anon.jpg", jpeg_bytes(seed=662), "image/jpeg")}).json()
    assert client.get(f"/v1/analyses/{keyed['id']}").status_code == 404
    assert [item["id"] for item in client.get("/v1/analyses").json()["items"]] == [anonymous["id"]]
    assert client.get(f"/v1/analyses/{anonymous['id']}", headers=keys.alice).status_code == 404
    assert client.get("/v1/feedback").status_code == 403  # no admin without a key
    assert client.get("/v1/analyses", headers=keys.root).json()["total"] == 2


def test_migration_0006_gives_existing_rows_owners_references_and_pending_review(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from realeyes.store import Database
    from realeyes.store.db import alembic_config

    database = Database(database_url)
    with database.engine.begin() as connection:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO analyses (id, created_at, sha256, versions_key, filename, size_bytes, label, p_fake, "
                "result, maps, api_key_id) VALUES (:id, CURRENT_TIMESTAMP, :sha, 'v', 'f.jpg', 1, 'authentic', 0.1, "
                "'{}', '[]', :key)"
            ),
            [{"id": "a1", "sha": "s1", "key": "k1"}, {"id": "a2", "sha": "s2", "key": None}],
        )
        connection.execute(
            text(
                "INSERT INTO feedback (id, analysis_id, created_at, label, note) "
                "VALUES ('f1', 'a1', CURRENT_TIMESTAMP, 'authentic', '')"
            )
        )
        items = '[{"name": "x.jpg", "sha256": "s3"}, {"name": "bad.jpg", "error_code": "corrupt_media"}]'
        connection.execute(
            text(
                "INSERT INTO jobs (id, kind, status, created_at, attempts, cancel_requested, items, done, "
                "item_progress, results) VALUES (:id, 'batch', :status, CURRENT_TIMESTAMP, 0, false, :items, 0, 0, "
                "'[]')"
            ),
            [{"id": "j1", "status": "queued", "items": items}, {"id": "j2", "status": "succeeded", "items": items}],
        )
    database.upgrade()
    with database.engine.connect() as connection:
        owners: dict[str, str] = dict(connection.execute(text("SELECT id, owner FROM analyses")).all())
        refs = set(connection.execute(text("SELECT sha256, holder FROM upload_refs")).all())
        status = connection.execute(text("SELECT status FROM feedback")).scalar_one()
    assert owners == {"a1": "k1", "a2": "anonymous"}
    assert refs == {("s1", "analysis:a1"), ("s2", "analysis:a2"), ("s3", "job:j1")}
    assert status == "pending"
    database.dispose()
