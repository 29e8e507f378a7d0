"""Security headers on the gateway's answers: pages, API errors, static files and the docs."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.headers import PAGE_CSP, SECURITY_HEADERS, SecurityHeaders
from tests.gateway.offline import offline_settings, seeded_services


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with seeded_services(tmp_path_factory.mktemp("headers"), cheap_hashes=True) as services:
        with TestClient(create_app(offline_settings(), services)) as c:
            yield c


def assert_secured(response, csp: str | None = PAGE_CSP) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], name
    if csp is not None:
        assert response.headers.get_list("content-security-policy") == [csp]


@pytest.mark.parametrize("path", ["/", "/api/health", "/static/family.html"])
def test_pages_and_the_api_carry_the_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_secured(response)


def test_refusals_carry_them_too(client):
    response = client.post("/api/chat", json={"sender": "r-0001", "message": "你好"})  # no key
    assert response.status_code in (401, 403)
    assert_secured(response)


def test_the_api_docs_keep_their_own_content_policy(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert_secured(response, csp=None)
    assert PAGE_CSP not in response.headers.get_list("content-security-policy")


def test_a_header_the_app_set_itself_is_replaced_once_and_its_own_csp_kept():
    async def own(_request):
        return PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN",
                                               "Content-Security-Policy": "default-src 'none'"})

    app = SecurityHeaders(Starlette(routes=[Route("/", own)]))
    response = TestClient(app).get("/")
    assert_secured(response, csp="default-src 'none'")
