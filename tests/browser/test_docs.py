"""The API page renders with no internet connection (the test browser reaches nothing outside)."""

from tests.browser.conftest import LANDSCAPE


def test_api_page_renders_offline(chromium, live_server):
    context = chromium.new_context(viewport=LANDSCAPE)
    try:
        page = context.new_page()
        outside: list[str] = []
        page.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
                   if not route.request.url.startswith(live_server.url) else route.continue_())
        page.goto(live_server.url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
        assert "iCanvas studio" in page.locator(".swagger-ui .info .title").inner_text()
        assert page.locator(".opblock").count() > 5  # the API's operations are listed
        assert outside == []
    finally:
        context.close()
