"""Every page route, every method, every role: derived from the URL map.

The tenant sweep (tests/assist/test_tenant_isolation.py) proves that an official of another
authority and an expert of another organisation get nothing. This adds the role dimension: the
same authority's official and the same organisation's expert never reach Efus's pages, staff never
reach the administrator's pages, and nobody signed out reaches anything but the sign-in pages.

Every page route must be classified below: a new route fails
``test_every_page_route_is_classified`` until someone decides who may open it.
"""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from assist.roles import Role
from tests.factories import make_user
from tests.security.conftest import allowed, is_login_redirect, refused

#: Anyone, signed in or not.
PUBLIC = {
    "/login",
    "/login/code",
    "/forgot-password",
    "/reset-password",
    "/invitation",
    "/healthz",
    "/readyz",
    "/static/<path:filename>",
    "/language",  # the language switcher, before signing in too
}
#: Efus staff and administrators only.
STAFF_ONLY = {
    "/requests/review",
    "/requests/<int:request_id>/experts",
    "/matching",
    "/conflicts",
    "/conflicts/<int:conflict_id>/delete",
    "/reports/",
    "/reports/coverage",
    "/reports/<any(requests, engagements, activities):kind>.csv",
    "/reports/funder-pack.zip",
    "/invitations",
    "/invitations/revoke",
    "/admin/authorities",
    "/admin/organisations",
}
#: Administrators only.
ADMIN_ONLY = {
    "/admin/users",
    "/admin/users/new",
    "/admin/users/<int:user_id>/edit",
    "/admin/users/<int:user_id>/reset-second-factor",
    "/admin/security",
    "/admin/authorities/new",
    "/admin/authorities/<int:authority_id>/edit",
    "/admin/organisations/new",
}
#: Any signed-in role; objects are scoped by their policy (the tenant sweeps prove it).
SIGNED_IN = {
    "/",
    "/logout",
    "/account",
    "/account/language",
    "/account/tokens",
    "/account/tokens/revoke",
    "/account/2fa",
    "/account/2fa/confirm",
    "/account/2fa/qr.svg",
    "/account/2fa/recovery-codes",
    "/account/password",
    "/account/security",
    "/account/session/ping",
    "/account/sessions/end",
    "/account/sessions/end-others",
    "/requests/",
    "/requests/new",
    "/requests/<int:request_id>",
    "/requests/<int:request_id>/edit",
    "/requests/<int:request_id>/export.json",
    "/requests/<int:request_id>/transitions/<action>",
    "/engagements/",
    "/engagements/<int:engagement_id>",
    "/engagements/<int:engagement_id>/transitions/<action>",
    "/engagements/<int:engagement_id>/activities/new",
    "/engagements/<int:engagement_id>/rating",
    "/engagements/<int:engagement_id>/follow-up",
    "/activities/<int:activity_id>/record",
    "/activities/<int:activity_id>/transitions/<action>",
    "/activities/<int:activity_id>/attachments",
    "/attachments/<int:attachment_id>",
    "/attachments/<int:attachment_id>/delete",
    "/notifications",
    "/notifications/<int:notification_id>/open",
    "/notifications/read-all",
    "/organisations/<int:org_id>",
    "/organisations/<int:org_id>/edit",
    "/reports/engagements/<int:engagement_id>/summary",
}
#: Route arguments that are not object ids.
OTHER_ARGS = {"action": "withdraw", "kind": "requests", "filename": "css/app.css"}
FORM = {"comment": "x", "title": "x", "name": "x", "reason": "x", "email": "x@assist.example"}


def page_rules(app: Flask) -> list:
    return [r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/")]


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def url(app: Flask, rule, ids: dict) -> str:
    values = {}
    for arg in rule.arguments:
        if arg in ids:
            values[arg] = ids[arg][0]
        elif arg in OTHER_ARGS:
            values[arg] = OTHER_ARGS[arg]
        else:
            pytest.fail(f"route {rule.rule} takes {arg!r}: map it in this test")
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


@pytest.fixture
def people(world):
    ids, outsiders, admin = world
    return ids, {
        "official of the authority": ids["request_id"][1],
        "expert of the organisation": ids["engagement_id"][1],
        "staff": make_user(Role.STAFF),
        "admin": admin,
        **outsiders,
    }


def test_every_page_route_is_classified(app) -> None:
    groups = [PUBLIC, STAFF_ONLY, ADMIN_ONLY, SIGNED_IN]
    for rule in page_rules(app):
        found = [g for g in groups if rule.rule in g]
        assert len(found) == 1, f"classify {rule.rule} in exactly one group of this test"
    known = {r.rule for r in page_rules(app)}
    assert set().union(*groups) <= known, set().union(*groups) - known


def _sweep(client, login_as, app, ids, rules, who: dict) -> list[tuple]:
    """(role, method, url, status) of every call that was not refused."""
    leaks = []
    for role, user in who.items():
        login_as(user)
        for rule in rules:
            target = url(app, rule, ids)
            for method in methods(rule):
                response = client.open(target, method=method, data=FORM, buffered=True)
                if not refused(response):
                    leaks.append((role, method, rule.rule, response.status_code))
    return leaks


def test_officials_and_experts_never_reach_staff_or_admin_pages(
    app, client, login_as, people
) -> None:
    ids, users = people
    rules = [r for r in page_rules(app) if r.rule in STAFF_ONLY | ADMIN_ONLY]
    assert len(rules) >= len(STAFF_ONLY | ADMIN_ONLY)
    who = {k: v for k, v in users.items() if v.role in (Role.CITY_OFFICIAL, Role.EXPERT)}
    assert len(who) == 4
    assert _sweep(client, login_as, app, ids, rules, who) == []


def test_staff_never_reach_admin_pages(app, client, login_as, people) -> None:
    ids, users = people
    rules = [r for r in page_rules(app) if r.rule in ADMIN_ONLY]
    assert _sweep(client, login_as, app, ids, rules, {"staff": users["staff"]}) == []


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_reach_the_staff_pages(app, client, login_as, people, role) -> None:
    """Guards the sweep: the staff-only URLs it builds are real, so a 403/404 above is refusal."""
    ids, users = people
    login_as(users[role])
    for rule in page_rules(app):
        if rule.rule not in STAFF_ONLY:
            continue
        target = url(app, rule, ids)
        if "GET" in rule.methods:
            response = client.get(target, buffered=True)
            assert allowed(response), (role, rule.rule, response.status_code)
        else:  # a POST-only action: let through to the form's own validation
            response = client.post(target, data={}, buffered=True)
            assert response.status_code not in (401, 403, 404), (rule.rule, response.status_code)
            assert response.status_code < 500


def test_admins_reach_the_admin_pages(app, client, login_as, people) -> None:
    ids, users = people
    login_as(users["admin"])
    for rule in page_rules(app):
        if rule.rule not in ADMIN_ONLY:
            continue
        target = url(app, rule, ids)
        if "GET" in rule.methods:
            response = client.get(target, buffered=True)
            assert allowed(response), (rule.rule, response.status_code)
        else:
            response = client.post(target, data={}, buffered=True)
            assert response.status_code not in (401, 403, 404), (rule.rule, response.status_code)
            assert response.status_code < 500


def test_signed_out_visitors_only_reach_the_public_pages(app, anonymous, people) -> None:
    ids, _ = people
    for rule in page_rules(app):
        target = url(app, rule, ids)
        for method in methods(rule):
            response = anonymous.open(target, method=method, data=FORM, buffered=True)
            if rule.rule in PUBLIC:
                assert response.status_code < 500, (method, rule.rule, response.status_code)
                continue
            assert is_login_redirect(response) or response.status_code == 401, (
                method,
                rule.rule,
                response.status_code,
            )


@pytest.mark.parametrize(
    "role",
    [
        "official of the authority",
        "expert of the organisation",
        "official of another authority",
        "expert of another organisation",
    ],
)
def test_the_navigation_offers_no_staff_links_to_officials_and_experts(
    app, client, login_as, people, role
) -> None:
    _, users = people
    login_as(users[role])
    page = client.get("/requests/" if "official" in role else "/engagements/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for href in ('href="/requests/review"', 'href="/matching"', 'href="/reports/"', "/admin/"):
        assert href not in html, (role, href)
