"""The admin's integrity page, ``/admin/integrity/`` (docs/integrity.md).

What ``integrity_report`` writes to a Markdown file, live, for the people who
inspect data in the admin:

- the lineage of every table under ``Company``, drawn (``diagram.py``) and as
  the report's ASCII tree;
- the audit's findings (orphans, FK-action drift, stale lifecycle fields),
  with a button that runs the audit's repair (``integrity_audit --fix``),
  superusers only; the last repair is recorded in the admin's action log
  (``LogEntry``: persistent, shared by every process, says who);
- rows per table per tenant: one grouped ``COUNT`` per table, whatever the
  number of tenants;
- the result of the cascade drill (``drill.py``, in a rolled-back
  transaction).

Who sees what: a superuser sees every tenant (``?company=ID`` narrows the
page to one); a company's staff see their own tenant only (counts, orphans
and stale rows scoped to it; the schema and the drill concern no tenant's
data); anyone else is sent to the admin login (``AdminSite.admin_view``).

Scans are cached for a short time (``django.core.cache``): the audit and the
counts for ``CACHE_SECONDS``, the drill (it builds two sample tenants) for
``DRILL_CACHE_SECONDS``. "Re-run" buttons recompute on demand.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from workspace.db.lineage import cascade_paths, root_model, tenant_models

CACHE_SECONDS = 60
DRILL_CACHE_SECONDS = 3600
#: Tenants listed in the counts table (all are counted; ?company=ID for one).
MAX_TENANT_ROWS = 200
FIX_LOG_REPR = "integrity_audit --fix"
_PREFIX = "workspace:integrity:"
logger = logging.getLogger(__name__)


# --- Who sees what ------------------------------------------------------------


def page_scope(request) -> int | None:
    """The company the page is about: None (all tenants) for a platform
    superuser without ``?company=``, the user's own company for anyone with
    a company (the admin's tenant scoping, ``workspace.adminkit``)."""
    from workspace.adminkit import is_platform_user, request_company_id

    if is_platform_user(request):
        raw = request.GET.get("company", "")
        return int(raw) if raw.isdigit() else None
    company_id = request_company_id(request)
    if company_id is None:
        raise PermissionDenied("Staff without a company see no tenant.")
    return company_id


def _key(name: str, company_id: int | None) -> str:
    return f"{_PREFIX}{name}:{company_id if company_id is not None else 'all'}"


def invalidate(company_id: int | None = None) -> None:
    """Forget the cached audit and counts (of one scope and of all tenants)."""
    keys = {_key(name, scope) for name in ("audit", "counts") for scope in (company_id, None)}
    cache.delete_many(list(keys))


# --- Data -----------------------------------------------------------------------


def tenant_path(model) -> str | None:
    """The shortest CASCADE path from ``model`` to its company (rows are
    tenant-consistent, so any path gives the same company)."""
    paths = cascade_paths(model)
    return paths[0] if paths else None


def count_rows(company_id: int | None = None) -> dict:
    """Rows per table per tenant: one ``GROUP BY`` query per table, the same
    number of queries for 1 or 10,000 tenants. ``None`` as a tenant: rows
    that belong to no company (platform superusers and what they own)."""
    per_table: dict[str, dict[int | None, int]] = {}  # by table name: cached, so picklable
    for model in tenant_models():
        path = tenant_path(model)
        if path is None:
            continue
        qs = model._base_manager.all()
        if company_id is not None:
            qs = qs.filter(**{path: company_id})
        per_table[model._meta.db_table] = {
            row[path]: row["n"] for row in qs.order_by().values(path).annotate(n=Count("*"))
        }
    return {"computed_at": timezone.now(), "per_table": per_table}


def per_model(counts: dict) -> dict:
    """``counts["per_table"]`` keyed by model, in the lineage's order."""
    return {
        m: counts["per_table"][m._meta.db_table] for m in tenant_models() if m._meta.db_table in counts["per_table"]
    }


def cached_counts(company_id: int | None) -> dict:
    key = _key("counts", company_id)
    data = cache.get(key)
    if data is None:
        data = count_rows(company_id)
        cache.set(key, data, CACHE_SECONDS)
    return data


def cached_audit(company_id: int | None, refresh: bool = False) -> dict:
    from workspace.integrity.audit import audit

    key = _key("audit", company_id)
    data = None if refresh else cache.get(key)
    if data is None:
        data = {"computed_at": timezone.now(), "findings": audit(company_id)}
        cache.set(key, data, CACHE_SECONDS)
    return data


def cached_drill(run: bool = False) -> dict | None:
    """The last drill (``run``: run it now). A page view runs it when no
    result is cached: it works in a rolled-back transaction."""
    from workspace.integrity.drill import run_drill

    key = f"{_PREFIX}drill"
    data = None if run else cache.get(key)
    if data is None:
        try:
            results = [{**asdict(r), "passed": r.passed, "outcome": r.outcome} for r in run_drill()]
            error = ""
        except Exception as exc:  # shown on the page, never a 500: the rest of the page still helps
            logger.exception("cascade drill failed")
            results, error = [], f"{type(exc).__name__}: {exc}"
        data = {"computed_at": timezone.now(), "results": results, "error": error}
        cache.set(key, data, DRILL_CACHE_SECONDS if not error else CACHE_SECONDS)
    return data


def last_fix():
    return (
        LogEntry.objects.filter(content_type__isnull=True, object_repr=FIX_LOG_REPR)
        .select_related("user")
        .order_by("-action_time")
        .first()
    )


def changelist_url(model) -> str | None:
    """The admin changelist of ``model`` (or of a registered proxy of it,
    e.g. DRF's ``TokenProxy``); None when it is not in the admin."""
    site = admin.site
    candidates = [model] + [m for m in site._registry if m._meta.proxy and m._meta.concrete_model is model]
    for candidate in candidates:
        if site.is_registered(candidate):
            opts = candidate._meta
            try:
                return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            except NoReverseMatch:
                continue
    return None


# --- The view -------------------------------------------------------------------


def _post(request, company_id):
    action = request.POST.get("action")
    if action == "audit":
        invalidate(company_id)
        messages.info(request, "Audit run again.")
    elif action in ("fix", "drill"):
        if not request.user.is_superuser:
            raise PermissionDenied("Only a superuser may repair the database or run the drill.")
        if action == "fix":
            from workspace.integrity.audit import repair

            changes = repair(company_id)
            invalidate(company_id)
            summary = "; ".join(f"{c.table}: {c.detail} ({c.count})" for c in changes) or "nothing to repair"
            scope = "all tenants" if company_id is None else f"company id {company_id}"
            LogEntry.objects.create(
                user_id=request.user.pk,
                content_type=None,
                object_id=None,
                object_repr=FIX_LOG_REPR,
                action_flag=CHANGE,
                change_message=f"Repair ({scope}): {summary}"[:4000],
            )
            remaining = cached_audit(company_id, refresh=True)["findings"]
            level = messages.SUCCESS if not remaining else messages.WARNING
            messages.add_message(
                request, level, f"Repaired: {summary}. Findings left: {sum(f.count for f in remaining)}."
            )
        else:
            data = cached_drill(run=True)
            failed = [r["path"] for r in data["results"] if not r["passed"]]
            if data["error"]:
                messages.error(request, f"Cascade drill could not run: {data['error']}")
            elif failed:
                messages.error(request, f"Cascade drill: FAIL on {', '.join(failed)}.")
            else:
                messages.success(request, f"Cascade drill: all {len(data['results'])} paths pass.")
    else:
        return None
    return HttpResponseRedirect(request.get_full_path())


def integrity_view(request):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    company_id = page_scope(request)
    if request.method == "POST":
        response = _post(request, company_id)
        if response is not None:
            return response

    from companies.models import Company

    from workspace.integrity.diagram import lineage_svg
    from workspace.integrity.report import lineage_diagram

    company = Company.objects.filter(pk=company_id).first() if company_id is not None else None
    if company_id is not None and company is None:
        from django.http import Http404

        raise Http404("No such company.")
    counts = cached_counts(company_id)
    audit_data = cached_audit(company_id)
    drill = cached_drill()

    by_model = per_model(counts)
    models = list(by_model)
    tenant_ids = sorted({cid for per in by_model.values() for cid in per if cid is not None})
    names = dict(Company._base_manager.filter(pk__in=tenant_ids[:MAX_TENANT_ROWS]).values_list("pk", "name"))
    table_rows = [
        {"name": names.get(cid, f"company {cid}"), "id": cid, "cells": [by_model[m].get(cid, 0) for m in models]}
        for cid in tenant_ids[:MAX_TENANT_ROWS]
    ]
    table_rows.sort(key=lambda r: (r["name"].lower(), r["id"]))
    no_tenant = [by_model[m].get(None, 0) for m in models]
    totals = {m: sum(per.values()) for m, per in by_model.items()}
    root = root_model()

    context = {
        **admin.site.each_context(request),
        "title": "Data integrity" + (f": {company.name}" if company else ""),
        "subtitle": None,
        "company": company,
        "scope_all": company_id is None,
        "is_superuser": request.user.is_superuser,
        "platform": request.user.is_superuser and getattr(request.user, "company_id", None) is None,
        "svg": lineage_svg(changelist_url, totals),
        "ascii": lineage_diagram().removeprefix("```text\n").removesuffix("```\n"),
        "findings": audit_data["findings"],
        "finding_rows": sum(f.count for f in audit_data["findings"]),
        "audit_at": audit_data["computed_at"],
        "last_fix": last_fix(),
        "columns": [
            {
                "label": m._meta.verbose_name_plural,
                "table": m._meta.db_table,
                "url": changelist_url(m),
                "total": totals[m],
            }
            for m in models
        ],
        "table_rows": table_rows,
        "tenants_total": len(tenant_ids),
        "tenants_hidden": max(len(tenant_ids) - MAX_TENANT_ROWS, 0),
        "no_tenant": no_tenant if company_id is None and any(no_tenant) else None,
        "counts_at": counts["computed_at"],
        "cache_seconds": CACHE_SECONDS,
        "drill": drill,
        "drill_passed": not drill["error"] and all(r["passed"] for r in drill["results"]),
        "root_table": root._meta.db_table,
    }
    return TemplateResponse(request, "workspace/admin/integrity.html", context)


def integrity_admin_view():
    """The view behind the admin's login and staff check (and CSRF)."""
    return admin.site.admin_view(integrity_view)
