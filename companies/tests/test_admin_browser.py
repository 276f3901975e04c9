"""A real browser in the admin: log in, open a company's delete page, read the
cascade summary, confirm, and find nothing of that company left.

Headless Chromium through Selenium (Debian's ``chromium`` and
``chromium-driver``; .ci/run installs them). Skipped, with the reason, where
no browser is installed.
"""

from workspace.browser_testing import BrowserTestCase


class CompanyDeleteInTheBrowserTests(BrowserTestCase):
    def setUp(self):
        from companies.models import User
        from workspace.testing import build_populated_tenant

        User.objects.create_superuser("root", "root@example.com", "correct horse battery")
        self.tenant = build_populated_tenant()
        self.bystander = build_populated_tenant()

    def _tenant_pks(self, company_id):
        from workspace.db.lineage import tenant_models, tenant_rows

        return {m: set(tenant_rows(m, company_id).values_list("pk", flat=True)) for m in tenant_models()}

    def test_delete_a_company_from_its_delete_page(self):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        from companies.models import Company

        browser = self.browser
        company = self.tenant.company
        pks = self._tenant_pks(company.pk)
        bystander_pks = self._tenant_pks(self.bystander.company.pk)

        browser.get(f"{self.live_server_url}/admin/login/?next=/admin/")
        browser.find_element(By.NAME, "username").send_keys("root")
        browser.find_element(By.NAME, "password").send_keys("correct horse battery")
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_contains("Site administration"))

        browser.get(f"{self.live_server_url}/admin/companies/company/{company.pk}/delete/")
        text = browser.find_element(By.ID, "content").text
        self.assertIn(f"Are you sure you want to delete the company “{company.name}”?", text)
        messages = len(self.tenant.messages) + len(self.tenant.replies)
        for line in (
            "Summary",
            "Companies: 1",
            f"Users: {len(self.tenant.users)}",
            f"Channels: {len(self.tenant.channels)}",
            f"Messages: {messages}",
            f"Message reactions: {len(self.tenant.reactions)}",
            f"Meetings: {len(self.tenant.meetings)}",
            f"Attendances: {len(self.tenant.attendances)}",
        ):
            self.assertIn(line, text)
        self.assertNotIn(self.bystander.company.name, text)

        browser.find_element(By.CSS_SELECTOR, "#content form input[type=submit]").click()
        # The delete page's own URL contains the changelist's: wait for the
        # redirect to the changelist itself, and ignore the page being
        # replaced while its body is read (stale element).
        WebDriverWait(browser, 30).until(lambda b: b.current_url.split("?")[0].endswith("/admin/companies/company/"))
        WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda b: "was deleted successfully" in b.find_element(By.TAG_NAME, "body").text
        )

        self.assertFalse(Company.objects.filter(pk=company.pk).exists())
        left = {m._meta.label: m._base_manager.filter(pk__in=ids).count() for m, ids in pks.items() if ids}
        self.assertEqual({label: n for label, n in left.items() if n}, {})
        kept = {
            m: set(m._base_manager.filter(pk__in=ids).values_list("pk", flat=True)) for m, ids in bystander_pks.items()
        }
        self.assertEqual(kept, bystander_pks)
