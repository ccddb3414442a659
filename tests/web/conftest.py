"""A real `keyhouse serve` and Debian's Chromium, shared by the page tests of one module."""

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from keyhouse.config import Settings
from tests.servers import running_server
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `keyhouse serve` on the test database; its log is checked for secrets."""
    log = tmp_path_factory.mktemp("browser") / "server.log"
    with running_server(settings, log) as url:
        yield url
    assert "kh_key_" not in log.read_text()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, driven by Playwright; missing Chromium fails the run."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            "Chromium is not installed; the page tests need a real browser. "
            "Install it with: apt-get install -y chromium",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
