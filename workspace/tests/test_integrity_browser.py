"""The admin's integrity page in a real browser (headless Chromium, the
pattern of companies/tests/test_admin_browser.py): it renders, the lineage
SVG is visible, and a screenshot of it is not blank.

``WORKSPACE_SCREENSHOT_DIR=docs/img`` also saves the page as
``integrity-page.png`` there (the picture in docs/integrity.md).
"""

import os
import struct
import zlib
from pathlib import Path

from workspace.browser_testing import BrowserTestCase


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what Chromium writes):
    (width, height, rows of raw pixel bytes). Pillow is not a dependency."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, bit_depth, colour_type, _, _, interlace = header
    assert bit_depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 4 if colour_type == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def distinct_colours(data: bytes) -> int:
    width, _, rows = png_pixels(data)
    bpp = len(rows[0]) // width
    return len({row[i : i + 3] for row in rows for i in range(0, len(row), bpp)})


def test_png_decoder_counts_colours():
    """The decoder itself, on a PNG written here (two colours, filters 0-4)."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = [bytes([255, 255, 255, 255, 0, 0]), bytes([255, 0, 0, 255, 255, 255])]
    raw = b"".join(b"\x00" + r for r in rows)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    assert distinct_colours(png) == 2
    blank = b"".join(b"\x02" + bytes(6) for _ in range(2))  # "Up" filter of zeros: one colour
    png = png.replace(chunk(b"IDAT", zlib.compress(raw)), chunk(b"IDAT", zlib.compress(b"\x00" + bytes(6) + blank[7:])))
    assert distinct_colours(png) == 1


class IntegrityPageInTheBrowserTests(BrowserTestCase):
    def setUp(self):
        from django.core.cache import cache

        from companies.models import User
        from workspace.testing import build_populated_tenant

        cache.clear()
        User.objects.create_superuser("root", "root@example.com", "correct horse battery")
        self.tenants = [build_populated_tenant(slug="acme"), build_populated_tenant(slug="globex")]

    def test_the_integrity_page_draws_the_lineage(self):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        from workspace.db.lineage import tenant_models

        browser = self.browser
        browser.set_window_size(1440, 1000)
        browser.get(f"{self.live_server_url}/admin/login/?next=/admin/")
        browser.find_element(By.NAME, "username").send_keys("root")
        browser.find_element(By.NAME, "password").send_keys("correct horse battery")
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_contains("Site administration"))

        # From the admin index, through its link.
        browser.find_element(By.CSS_SELECTOR, "#integrity-module a").click()
        WebDriverWait(browser, 30).until(expected_conditions.title_contains("Data integrity"))
        svg = browser.find_element(By.CSS_SELECTOR, "svg.lineage")
        self.assertTrue(svg.is_displayed())
        self.assertGreater(svg.size["width"], 600)
        self.assertGreater(svg.size["height"], 300)
        boxes = browser.find_elements(By.CSS_SELECTOR, "svg.lineage .node")
        self.assertEqual(len(boxes), len(tenant_models()))
        self.assertIn("chat_message", svg.text)
        self.assertIn("SET NULL", svg.text)
        text = browser.find_element(By.ID, "content").text
        for line in ("Lineage", "No finding", "Rows per tenant", "Every path passes."):
            self.assertIn(line, text)

        # The picture is not blank: the boxes, edges and labels give many colours.
        picture = svg.screenshot_as_png
        self.assertGreater(distinct_colours(picture), 20)

        target = os.environ.get("WORKSPACE_SCREENSHOT_DIR")
        if target:
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(1440, min(height + 20, 4000))
            Path(target).mkdir(parents=True, exist_ok=True)
            Path(target, "integrity-page.png").write_bytes(browser.get_screenshot_as_png())

        # A box is a link to its changelist.
        browser.find_element(By.CSS_SELECTOR, 'svg.lineage a[data-table="chat_channel"]').click()
        WebDriverWait(browser, 10).until(expected_conditions.url_contains("/admin/chat/channel/"))
