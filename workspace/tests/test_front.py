"""The landing page at ``/`` (workspace/front.py)."""

import pytest

LINKS = ("/admin/", "/admin/integrity/", "/api/docs/", "/api/schema/", "/healthz")


@pytest.mark.django_db
def test_development_landing_page_links_everywhere_and_shows_the_demo_logins(client, settings):
    settings.DEBUG = True
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1>Workspace</h1>" in html
    for href in LINKS:
        assert f'href="{href}"' in html
    assert 'id="demo"' in html
    assert "user <code>admin</code>, password <code>admin</code>" in html
    assert "/api/auth/token/" in html and "Authorization: Token" in html
    assert "http://testserver/api/auth/token/" in html  # the curl line uses this server's address


@pytest.mark.django_db
def test_production_landing_page_has_no_demo_hints(client, settings):
    settings.DEBUG = False
    response = client.get("/", secure=True)  # production redirects plain HTTP
    assert response.status_code == 200
    html = response.content.decode()
    for href in LINKS:
        assert f'href="{href}"' in html
    for hint in ('id="demo"', "password", "admin</code>", "seed_demo", "curl"):
        assert hint not in html


@pytest.mark.django_db
def test_landing_page_is_plain_html_with_a_static_stylesheet(client):
    html = client.get("/").content.decode()
    assert "<script" not in html
    assert "style=" not in html and "<style" not in html  # a Content Security Policy can forbid inline styles
    assert 'rel="stylesheet" href="/static/workspace/site.css"' in html
    for external in ("http://", "https://"):
        assert f'href="{external}' not in html and f'src="{external}' not in html


def test_the_stylesheet_exists():
    from django.contrib.staticfiles import finders

    assert finders.find("workspace/site.css")


@pytest.mark.django_db
def test_only_reads_are_allowed(client):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200
