"""Headless Chromium for the browser tests (admin, integrity page, CSP).

Debian's ``chromium`` and ``chromium-driver`` through Selenium; .ci/run
installs them. Where they are missing the tests are skipped with the reason,
except in CI (``WORKSPACE_REQUIRE_BROWSER=1``), where that is a failure.
Test code only: nothing outside the tests imports it.
"""

import os
import shutil
import unittest

from django.contrib.staticfiles.testing import StaticLiveServerTestCase

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NO_BROWSER = (
    "no browser: install Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver; .ci/run does)"
)
#: CI sets this: there a missing browser is a failure, not a skip.
REQUIRED = os.environ.get("WORKSPACE_REQUIRE_BROWSER") == "1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1600",
]


@unittest.skipUnless((CHROMIUM and CHROMEDRIVER) or REQUIRED, NO_BROWSER)
class BrowserTestCase(StaticLiveServerTestCase):
    """A live server and one headless Chromium per test class
    (``self.browser``). ``capabilities`` adds Selenium capabilities (e.g.
    the browser console log)."""

    capabilities: dict = {}

    @classmethod
    def setUpClass(cls):
        if not (CHROMIUM and CHROMEDRIVER):
            raise RuntimeError(f"WORKSPACE_REQUIRE_BROWSER=1 but {NO_BROWSER}")
        super().setUpClass()
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        for name, value in cls.capabilities.items():
            options.set_capability(name, value)
        # The system driver: Selenium must not try to download one.
        cls.browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        cls.browser.implicitly_wait(10)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        super().tearDownClass()
