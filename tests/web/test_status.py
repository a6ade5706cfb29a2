"""/healthz and /status report database, Redis, workers, rq cron and the queue."""

from __future__ import annotations

from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, Worker
from rq.cron import CronScheduler

from signing.config import Settings
from web import create_app


def test_healthz_is_degraded_but_serving_when_no_worker_or_cron_runs(client: FlaskClient) -> None:
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["worker"] == {"ok": False, "count": 0, "last_seen": None}
    assert body["checks"]["cron"] == {"ok": False, "last_tick": None}
    assert body["checks"]["queue"] == {"ok": True, "length": 0}


def test_healthz_is_ok_with_a_live_worker_and_cron(client: FlaskClient, redis: Redis) -> None:
    worker = Worker(["default"], connection=redis)
    worker.register_birth()
    worker.heartbeat()
    cron = CronScheduler(connection=redis)
    cron.register_birth()
    cron.heartbeat()
    Queue("default", connection=redis).enqueue("signing.jobs.record_cron_tick")
    try:
        body = client.get("/healthz").get_json()
    finally:
        worker.register_death()
        cron.register_death()
    assert body["status"] == "ok", body
    assert body["checks"]["worker"]["count"] == 1 and body["checks"]["worker"]["last_seen"]
    assert body["checks"]["cron"]["last_tick"]
    assert body["checks"]["queue"]["length"] == 1


def test_healthz_answers_503_when_redis_is_down(settings: Settings) -> None:
    app = create_app(settings.with_overrides(redis_url="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "degraded" and body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    app.extensions["podpisant"].engine.dispose()


def test_the_status_page_shows_the_same_to_a_person(client: FlaskClient) -> None:
    html = client.get("/status").get_data(as_text=True)
    assert 'data-check="database"' in html and 'data-check="worker"' in html
    assert 'hx-trigger="every 5s"' in html
    fragment = client.get("/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="checks"' in fragment and "<html" not in fragment
