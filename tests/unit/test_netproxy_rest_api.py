"""The proxy's control API: Toxiproxy's routes, and bad requests answered with a reason."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from chaos.netproxy import ProxyApiError, ProxyServer, Toxic, ToxicError, ToxiproxyClient


@pytest.fixture
def api():
    with ProxyServer() as server:
        yield ToxiproxyClient(server.url), server.url


def _raw(url: str, method: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_proxy_is_created_listed_and_shows_its_real_port(api):
    client, _ = api
    created = client.create("redis", "127.0.0.1:0", "127.0.0.1:6379")
    assert created["enabled"] and not created["listen"].endswith(":0")
    assert list(client.proxies()) == ["redis"]
    assert client.version()


def test_a_toxic_is_added_listed_and_removed(api):
    client, _ = api
    client.create("pg", "127.0.0.1:0", "127.0.0.1:5432")
    client.add_toxic("pg", "latency", latency=800, jitter=200)
    assert client.toxics("pg") == [
        {
            "name": "latency",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1.0,
            "attributes": {"latency": 800, "jitter": 200},
        }
    ]
    client.remove_toxic("pg", "latency")
    assert client.toxics("pg") == []


@pytest.mark.parametrize(
    ("toxic", "says"),
    [
        ({"type": "lag"}, "unknown toxic type 'lag'"),
        ({"type": "latency", "attributes": {"latency": -5}}, "latency=-5"),
        ({"type": "latency", "attributes": {"delay": 5}}, "no attribute 'delay'"),
        ({"type": "latency", "stream": "sideways"}, "stream 'sideways'"),
        ({"type": "latency", "toxicity": 1.5}, "toxicity 1.5"),
        ({"type": "bandwidth", "attributes": {"rate": "fast"}}, "rate='fast'"),
    ],
)
def test_a_bad_toxic_is_refused_with_a_message_quoting_it(api, toxic, says):
    client, url = api
    client.create("pg", "127.0.0.1:0", "127.0.0.1:5432")
    status, body = _raw(f"{url}/proxies/pg/toxics", "POST", json.dumps(toxic).encode())
    assert status == 400 and says in body["error"]
    with pytest.raises(ToxicError, match=says.split("=")[0]):
        Toxic.from_dict(toxic)


def test_unknown_proxies_duplicates_and_bad_json_get_clear_4xx_answers(api):
    client, url = api
    client.create("pg", "127.0.0.1:0", "127.0.0.1:5432")
    with pytest.raises(ProxyApiError, match="404 proxy 'nope' not found"):
        client.add_toxic("nope", "latency", latency=1)
    with pytest.raises(ProxyApiError, match="409 proxy 'pg' already exists"):
        client.create("pg", "127.0.0.1:0", "127.0.0.1:5432")
    with pytest.raises(ProxyApiError, match="409 toxic 'latency' already exists"):
        client.add_toxic("pg", "latency", latency=1)
        client.add_toxic("pg", "latency", latency=1)
    with pytest.raises(ProxyApiError, match="is not host:port"):
        client.create("x", "127.0.0.1:0", "nowhere")
    assert _raw(f"{url}/proxies", "POST", b"{not json")[0] == 400
    assert _raw(f"{url}/proxies/pg", "POST", b'{"enabled": "yes"}')[0] == 400
    assert _raw(f"{url}/nothing", "GET", b"")[0] == 404


def test_an_unreachable_api_is_a_clear_error():
    with ProxyServer() as server:
        url = server.url
    with pytest.raises(ProxyApiError, match="unreachable"):
        ToxiproxyClient(url, timeout=2).proxies()
