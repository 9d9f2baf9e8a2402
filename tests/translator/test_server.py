"""The translator service as a real process over HTTP."""

import httpx
import pytest

from tests.support.processes import free_port, translator_service


@pytest.fixture(scope="module")
def server(packages_dir, tmp_path_factory):
    port = free_port()
    service = translator_service(port, packages_dir, tmp_path_factory.mktemp("logs")).start()
    yield f"http://127.0.0.1:{port}"
    service.stop()


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    port = free_port()
    logs = tmp_path_factory.mktemp("logs-empty")
    service = translator_service(port, logs / "no-models", logs).start()
    yield f"http://127.0.0.1:{port}"
    service.stop()


def test_health_lists_models_and_pairs(server):
    body = httpx.get(f"{server}/health").json()
    assert body["status"] == "ok"
    assert {"source": "hi", "target": "en", "via": None} in body["pairs"]
    assert body["note"] is None


def test_translate(server):
    response = httpx.post(f"{server}/translate", json={"text": "मेरा ऑर्डर", "source": "hi", "target": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["source"] == "hi" and body["target"] == "en" and body["text"]


@pytest.mark.parametrize(
    "payload, status, error",
    [
        ({"text": "hi", "source": "hi"}, 400, "bad_request"),
        ({"text": "", "source": "hi", "target": "en"}, 400, "bad_request"),
        ({"text": 5, "source": "hi", "target": "en"}, 400, "bad_request"),
        ({"text": "x" * 5001, "source": "hi", "target": "en"}, 413, "too_long"),
        ({"text": "hello", "source": "ml", "target": "en"}, 422, "no_model"),
    ],
)
def test_bad_requests_get_clear_errors(server, payload, status, error):
    response = httpx.post(f"{server}/translate", json=payload)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["message"]


def test_malformed_json_is_rejected(server):
    response = httpx.post(
        f"{server}/translate", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_without_models_the_service_says_so(empty_server):
    body = httpx.get(f"{empty_server}/health").json()
    assert body["pairs"] == []
    assert "no translation model installed" in body["note"]
    response = httpx.post(f"{empty_server}/translate", json={"text": "hello", "source": "en", "target": "hi"})
    assert response.status_code == 422
