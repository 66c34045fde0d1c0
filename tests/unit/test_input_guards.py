"""Hostile input is refused before any network traffic or decoding: SSRF, bombs, junk."""

from __future__ import annotations

import pytest

from chaos.fixtures.images import CATALOG, bomb_png, expected_result, image_bytes
from system.api import key_problem, url_problem
from system.errors import PermanentJobError
from system.fetch import check_url
from system.imaging import make_thumbnail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.jpg",
        "http://localhost:8080/a.jpg",
        "http://10.0.0.5/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://0.0.0.0/x",
        "http://[::ffff:127.0.0.1]/x",
        "file:///etc/passwd",
        "gopher://example.com/",
    ],
)
def test_internal_and_non_http_urls_are_refused(url):
    with pytest.raises(PermanentJobError, match="refused URL"):
        check_url(url, allowed_hosts=())


def test_the_allow_list_names_hosts_addresses_and_networks():
    check_url("http://127.0.0.1:9/a.jpg", allowed_hosts=("127.0.0.0/8",))
    check_url("http://localhost:8080/a.jpg", allowed_hosts=("localhost",))
    with pytest.raises(PermanentJobError):
        check_url("http://10.0.0.1/a.jpg", allowed_hosts=("127.0.0.1",))


def test_a_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(PermanentJobError, match="decompression bomb"):
        make_thumbnail(bomb_png(), max_pixels=40_000_000)


@pytest.mark.parametrize("data", [b"", b"<html></html>", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_bytes_that_are_not_an_image_are_refused(data):
    with pytest.raises(PermanentJobError, match="not an image|cannot decode"):
        make_thumbnail(data, max_pixels=40_000_000)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_thumbnails_are_deterministic_grayscale_and_small(name):
    first = make_thumbnail(image_bytes(name), max_pixels=40_000_000)
    again = make_thumbnail(image_bytes(name), max_pixels=40_000_000)
    assert first.data == again.data and first.sha256 == expected_result(name).sha256
    assert max(first.width, first.height) <= 128
    assert first.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("ftp://x/a", "http or https"),
        ("http://", "no host"),
        ("http://x/" + "a" * 3000, "limit"),
        ("http://x/a b", "whitespace"),
        ("http://x/\ud800", "surrogate"),
        ("http://127.0.0.1\\@x/a", "backslash"),
        ("http://u@x/a", "user name"),
    ],
)
def test_url_problems_are_named(url, problem):
    assert problem in url_problem(url, max_length=2048)


def test_keys_must_be_short_printable_ascii():
    assert key_problem("order-42") is None
    assert "limit" in key_problem("k" * 201)
    assert "printable" in key_problem("naïve")
