"""A real browser signs in with password and TOTP, lands on the role's home page in Spanish; axe-core checks."""
from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations


def _summary(violations):
    return [(v["id"], v["impact"], [n.get("target") for n in v.get("nodes", [])][:3]) for v in violations]


def test_browser_login_with_second_factor_lands_on_spanish_home(page, factory, browser_login):
    u = factory.user("trabajadora", roles=("social_worker",))
    browser_login(u)
    assert page.url.endswith("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("link", name="Mi cuenta")).to_be_visible()
    expect(page.locator("form[action='/auth/logout']")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # The social worker's home: her cases, never the administration or the access log.
    expect(page.locator("main a[href='/cases/']").first).to_be_attached()
    expect(page.locator("main a[href^='/admin/']")).to_have_count(0)
    expect(page.locator("main a[href^='/audit/']")).to_have_count(0)
    assert "Ingresar" not in page.content()


def test_browser_enrolment_shows_qr_and_recovery_codes(page, factory):
    u = factory.user("nueva", enrolled=False)
    page.goto("/auth/login")
    page.get_by_label("Usuario").fill(u.username)
    page.get_by_label("Contraseña").fill(u.password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url("**/auth/enrol")
    expect(page.locator(".qr svg[role=img]")).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    assert not axe_violations(page), _summary(axe_violations(page))
    page.get_by_label("Código de verificación").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verificar").click()
    page.get_by_role("heading", name="Sus códigos de recuperación").wait_for()
    codes = re.findall(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", page.locator("ul.codes").inner_text())
    assert len(codes) == 10


def test_accessibility_of_login_second_factor_and_home(page, factory):
    u = factory.user("abogada", roles=("lawyer",))
    page.goto("/auth/login")
    violations = axe_violations(page)
    assert not violations, _summary(violations)

    page.get_by_label("Usuario").fill(u.username)
    page.get_by_label("Contraseña").fill(u.password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url("**/auth/verify")
    violations = axe_violations(page)
    assert not violations, _summary(violations)

    # A wrong code: the error is shown, tied to the field, and the page stays accessible.
    page.get_by_label("Código de verificación").fill("000000" if u.totp() != "000000" else "111111")
    page.get_by_role("button", name="Verificar").click()
    expect(page.locator("#code-error")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, _summary(violations)

    page.get_by_label("Código de verificación").fill(u.totp())
    page.get_by_role("button", name="Verificar").click()
    page.wait_for_url("**/")
    violations = axe_violations(page)
    assert not violations, _summary(violations)

    page.goto("/auth/account")
    violations = axe_violations(page)
    assert not violations, _summary(violations)
