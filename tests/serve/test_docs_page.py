"""The API page works offline: Swagger UI comes from the studio, nothing from another site."""

import re


def test_api_page_loads_only_the_studios_own_files(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    scripts = re.findall(r"""url:\s*['"]([^'"]+)['"]""", page.text)
    assert sources and all(s.startswith("/") for s in sources + scripts), sources + scripts
    for path in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert path in sources
        reply = client.get(path)
        assert reply.status_code == 200 and len(reply.content) > 10_000
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404  # it would load its script from a CDN
