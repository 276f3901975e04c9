"""The Content Security Policy in a real browser: the admin, Swagger UI
(/api/docs/) and the browsable API work under it, and the browser reports no
violation (docs/api.md, "Production surface").

Headless Chromium through Selenium, as companies/tests/test_admin_browser.py
(skipped with the reason where no browser is installed; a failure in CI, which
sets WORKSPACE_REQUIRE_BROWSER=1).
"""

from django.test import override_settings

from workspace.browser_testing import BrowserTestCase

PASSWORD = "correct horse battery"


@override_settings(API_DOCS_PUBLIC=False)
class ContentSecurityPolicyInTheBrowserTests(BrowserTestCase):
    # The console is where Chromium reports a CSP violation ("Refused to ...").
    capabilities = {"goog:loggingPrefs": {"browser": "ALL"}}

    def setUp(self):
        from companies.factories import CompanyFactory
        from companies.models import User

        User.objects.create_superuser("root", "root@example.com", PASSWORD)
        company = CompanyFactory()
        User.objects.create_user("ann", "ann@example.com", PASSWORD, company=company)

    def violations(self) -> list[str]:
        entries = self.browser.get_log("browser")
        return [
            e["message"] for e in entries if "Content Security Policy" in e["message"] or "Refused to" in e["message"]
        ]

    def login(self, username: str, next_url: str):
        from selenium.webdriver.common.by import By

        self.browser.get(f"{self.live_server_url}/admin/login/?next={next_url}")
        self.browser.find_element(By.NAME, "username").send_keys(username)
        self.browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    def test_admin_swagger_ui_and_browsable_api_run_without_violation(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        browser = self.browser
        wait = WebDriverWait(browser, 15)

        # The admin: login, index, a change form with its JavaScript widgets.
        self.login("root", "/admin/")
        wait.until(expected_conditions.title_contains("Site administration"))
        browser.get(f"{self.live_server_url}/admin/chat/channel/add/")
        wait.until(lambda b: b.execute_script("return document.readyState") == "complete")
        # admin/js/theme.js ran (it sets data-theme on <html>).
        self.assertTrue(browser.execute_script("return document.documentElement.dataset.theme !== undefined"))
        self.assertEqual(self.violations(), [])

        # Swagger UI (docs private: reached with the admin session): its inline
        # init script ran, fetched the schema and rendered the operations.
        browser.get(f"{self.live_server_url}/api/docs/")
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) > 10)
        self.assertIn("/api/channels/", browser.find_element(By.ID, "swagger-ui").text)
        self.assertEqual(self.violations(), [])

        # The browsable API, as a member of a company (not staff: no admin
        # login; the session is made here and handed to the browser).
        from companies.models import User

        browser.delete_all_cookies()
        self.client.force_login(User.objects.get(username="ann"))
        cookie = self.client.cookies["sessionid"]
        browser.add_cookie({"name": "sessionid", "value": cookie.value, "path": "/"})
        browser.get(f"{self.live_server_url}/api/users/")
        wait.until(lambda b: b.execute_script("return document.readyState") == "complete")
        self.assertIn('"username": "ann"', browser.find_element(By.TAG_NAME, "body").text)
        # Its scripts ran: jQuery is there and the CSRF token was read from the data block.
        self.assertTrue(browser.execute_script("return typeof window.jQuery === 'function'"))
        self.assertEqual(self.violations(), [])

    def test_a_violation_would_be_seen(self):
        # The check above is not blind: an inline script without the nonce is
        # refused and reported.
        self.browser.get(f"{self.live_server_url}/admin/login/")
        self.browser.execute_script(
            "const s = document.createElement('script'); s.textContent = 'window.x = 1';document.head.appendChild(s);"
        )
        self.assertIsNone(self.browser.execute_script("return window.x"))
        self.assertTrue(any("Content Security Policy" in v for v in self.violations()))
