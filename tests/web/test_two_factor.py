"""Two-factor authentication through the real pages: enrolment with a QR code, the second step of a login (codes
once each, two steps back refused, recovery codes once, five minutes), signing with the authenticator's code, turning
it off. The clock is moved with time-machine, never waited for."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
import time_machine
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from signing.models import LoginEvent, LoginResult, Signatory, SignatoryState, TwoFactor
from tests.conftest import MailSink, WebUser, csrf_from
from tests.signing.round_fixtures import job_environment_fixture  # noqa: F401 - fixture `job_environment`
from tests.web.test_round_pages import (  # noqa: F401 - fixtures: the round, its clock and its jobs' settings
    NOW,
    Round,
    _clock,
    _jobs_read_the_test_settings,
    maria,
    sent,
)

T0 = NOW + timedelta(minutes=10, seconds=5)
"""Five seconds into a 30-second step; after the round fixture (which runs on a ticking clock from NOW) and within
its sessions' idle half hour."""
STEP = timedelta(seconds=30)
SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
RECOVERY = re.compile(r'data-testid="recovery-code">([a-z0-9-]+)<')


def totp(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrolment_page(user: WebUser) -> str:
    started = user.client.post("/profile/security/two-factor/enrol",
                               data={"csrf_token": user.token("/profile/security")})
    assert started.status_code == 303 and started.headers["Location"].endswith("/profile/security/two-factor/enrol")
    return user.client.get("/profile/security/two-factor/enrol").get_data(as_text=True)


def confirm_enrolment(user: WebUser, code: str, page: str) -> TestResponse:
    return user.client.post("/profile/security/two-factor/confirm", data={"code": code, "csrf_token": csrf_from(page)})


def enable_two_factor(user: WebUser, at: datetime) -> tuple[str, list[str]]:
    """Turn it on through the pages with the code of `at` (the clock must stand there): secret, recovery codes."""
    page = enrolment_page(user)
    found = SECRET.search(page)
    assert found, "no secret on the enrolment page"
    secret = found.group(1).replace(" ", "")
    shown = confirm_enrolment(user, totp(secret, at), page)
    assert shown.status_code == 200, shown.get_data(as_text=True)[:1500]
    return secret, RECOVERY.findall(shown.get_data(as_text=True))


def second_step(user: WebUser, code: str) -> TestResponse:
    return user.client.post("/login/code", data={"code": code, "csrf_token": user.token("/login/code")})


def signed_in(user: WebUser) -> bool:
    return user.client.get("/cabinet").status_code == 200


def results(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(LoginEvent.result).order_by(LoginEvent.id)))


def test_enrolment_shows_a_qr_code_and_the_secret_refuses_a_wrong_first_code_and_enables_with_the_right_one(
    web_user: WebUser, engine: Engine
) -> None:
    with time_machine.travel(T0, tick=False):
        web_user.signup()
        assert 'data-enabled="false"' in web_user.client.get("/profile/security").get_data(as_text=True)
        page = enrolment_page(web_user)
        secret = SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
        assert '<figure class="qr" data-testid="qr"><svg' in page and "<img" not in page  # drawn here, inline
        assert "<script" not in page.split("</head>")[1] and not re.search(r"\son[a-z]+=", page)  # CSP-ready
        wrong = confirm_enrolment(web_user, totp(secret, T0 + 10 * STEP), page)
        html = wrong.get_data(as_text=True)
        assert wrong.status_code == 422 and 'data-error-code="TOTP-INVALID"' in html
        assert "Осталось попыток: 4" in html and SECRET.search(html)  # the same secret, to try again
        assert 'data-enabled="false"' in web_user.client.get("/profile/security").get_data(as_text=True)
        shown = confirm_enrolment(web_user, totp(secret, T0), page)
        codes = RECOVERY.findall(shown.get_data(as_text=True))
        assert shown.status_code == 200 and len(set(codes)) == 10
        assert shown.headers["Cache-Control"] == "private, no-store"
        security = web_user.client.get("/profile/security").get_data(as_text=True)
        assert 'data-enabled="true"' in security and "Кодов восстановления осталось: 10." in security
        assert not RECOVERY.search(security)  # shown once, never again
    with Session(engine) as session:
        stored = session.scalars(select(TwoFactor)).one()
    assert secret.encode() not in stored.wrapped_secret and stored.enabled_at is not None


def test_login_asks_for_the_code_and_the_account_is_not_signed_in_until_it_is_accepted(
    web_user: WebUser, engine: Engine
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        clock.move_to(T0 + STEP)
        response = web_user.login()
        assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
        assert not signed_in(web_user)
        assert web_user.client.get("/login/code").status_code == 200  # the step is still open
        wrong = second_step(web_user, totp(secret, T0 + 20 * STEP))
        assert wrong.status_code == 422 and 'data-error-code="TOTP-INVALID"' in wrong.get_data(as_text=True)
        assert not signed_in(web_user)
        right = second_step(web_user, totp(secret, T0 + STEP))
        assert right.status_code == 302 and right.headers["Location"].endswith("/cabinet")
        assert signed_in(web_user)
    assert results(engine)[-2:] == [LoginResult.SUCCESS, LoginResult.WRONG_CODE]  # the pending entry became success


def test_the_page_asked_for_before_the_login_opens_after_the_second_step(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        clock.move_to(T0 + STEP)
        form = {"login": web_user.email, "password": web_user.password, "csrf_token": web_user.token("/login")}
        assert web_user.client.post("/login?next=/profile/security", data=form).headers["Location"] == "/login/code"
        assert second_step(web_user, totp(secret, T0 + STEP)).headers["Location"] == "/profile/security"


def test_turning_it_on_twice_or_confirming_without_an_enrolment_is_refused(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False):
        web_user.signup()
        no_enrolment = web_user.client.post("/profile/security/two-factor/confirm", data={
            "code": "123456", "csrf_token": web_user.token("/profile/security")})
        assert no_enrolment.status_code == 409 and "TOTP-STATE" in no_enrolment.get_data(as_text=True)
        enable_two_factor(web_user, T0)
        again = web_user.client.post("/profile/security/two-factor/enrol",
                                     data={"csrf_token": web_user.token("/profile/security")})
        assert again.status_code == 409 and "TOTP-STATE" in again.get_data(as_text=True)
        assert web_user.client.get("/profile/security/two-factor/enrol").status_code == 303  # nothing to show


def test_a_code_used_once_is_refused_when_replayed_in_the_same_step(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        clock.move_to(T0 + STEP)
        code = totp(secret, T0 + STEP)
        web_user.login()
        assert second_step(web_user, code).status_code == 302
        web_user.logout()
        clock.move_to(T0 + STEP + timedelta(seconds=10))  # the same 30-second step
        web_user.login()
        replayed = second_step(web_user, code)
        assert replayed.status_code == 422 and 'data-error-code="TOTP-USED"' in replayed.get_data(as_text=True)
        assert not signed_in(web_user)


def test_a_code_from_two_steps_ago_is_refused_and_the_previous_steps_is_accepted(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        clock.move_to(T0 + 4 * STEP)
        web_user.login()
        old = second_step(web_user, totp(secret, T0 + 2 * STEP))
        assert old.status_code == 422 and 'data-error-code="TOTP-INVALID"' in old.get_data(as_text=True)
        assert second_step(web_user, totp(secret, T0 + 3 * STEP)).status_code == 302  # clocks a little apart


def test_a_recovery_code_logs_in_once_and_not_twice(web_user: WebUser, engine: Engine) -> None:
    with time_machine.travel(T0, tick=False):
        web_user.signup()
        _secret, codes = enable_two_factor(web_user, T0)
        web_user.logout()
        web_user.login()
        assert second_step(web_user, codes[0]).status_code == 302 and signed_in(web_user)
        web_user.logout()
        web_user.login()
        again = second_step(web_user, codes[0])
        assert again.status_code == 422 and 'data-error-code="TOTP-INVALID"' in again.get_data(as_text=True)
        assert not signed_in(web_user)
        security_before = second_step(web_user, codes[1])
        assert security_before.status_code == 302
        page = web_user.client.get("/profile/security").get_data(as_text=True)
    assert "Кодов восстановления осталось: 8." in page and "код восстановления" in page
    with Session(engine) as session:
        factors = list(session.scalars(select(LoginEvent.second_factor).where(LoginEvent.result == "success")))
    assert factors.count("recovery") == 2


def test_the_second_step_expires_after_five_minutes(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        web_user.login()
        token = web_user.token("/login/code")
        clock.move_to(T0 + timedelta(minutes=5, seconds=1))
        late = web_user.client.post("/login/code", data={"code": totp(secret, T0 + timedelta(minutes=5, seconds=1)),
                                                         "csrf_token": token})
        html = late.get_data(as_text=True)
        assert late.status_code == 401 and 'data-error-code="LOGIN-CODE-EXPIRED"' in html and 'name="code"' not in html
        assert not signed_in(web_user)
        assert web_user.client.get("/login/code").headers["Location"].endswith("/login")  # start over


def test_five_wrong_codes_lock_the_second_step_and_the_login_starts_over(web_user: WebUser, engine: Engine) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        web_user.logout()
        clock.move_to(T0 + STEP)
        web_user.login()
        wrong = totp(secret, T0 + 40 * STEP)
        for left in (4, 3, 2, 1):
            assert f"Осталось попыток: {left}" in second_step(web_user, wrong).get_data(as_text=True)
        locked = second_step(web_user, wrong)
        assert locked.status_code == 429 and 'data-error-code="TOTP-LOCKED"' in locked.get_data(as_text=True)
        web_user.login()
        refused = second_step(web_user, totp(secret, T0 + STEP))  # the right code waits out the lock
        assert 'data-error-code="TOTP-LOCKED"' in refused.get_data(as_text=True) and not signed_in(web_user)
    assert results(engine).count(LoginResult.LOCKED) == 2


def test_turning_it_off_needs_the_password_and_a_current_code(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, _codes = enable_two_factor(web_user, T0)
        clock.move_to(T0 + STEP)

        def disable(password: str, code: str) -> TestResponse:
            return web_user.client.post("/profile/security/two-factor/disable", data={
                "disable-password": password, "disable-code": code,
                "csrf_token": web_user.token("/profile/security")})

        wrong_password = disable("не тот пароль совсем", totp(secret, T0 + STEP))
        html = wrong_password.get_data(as_text=True)
        assert wrong_password.status_code == 422 and 'data-field-error="disable-password"' in html
        assert "не тот пароль" not in html  # a password is never sent back
        wrong_code = disable(web_user.password, totp(secret, T0 + 30 * STEP))
        assert 'data-error-code="TOTP-INVALID"' in wrong_code.get_data(as_text=True)
        assert disable(web_user.password, totp(secret, T0 + STEP)).status_code == 303
        assert 'data-enabled="false"' in web_user.client.get("/profile/security").get_data(as_text=True)
        web_user.logout()
        assert web_user.login().headers["Location"].endswith("/cabinet")  # no second step any more


def test_new_recovery_codes_need_a_current_code(web_user: WebUser) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        web_user.signup()
        secret, old = enable_two_factor(web_user, T0)
        clock.move_to(T0 + STEP)

        def regenerate(code: str) -> TestResponse:
            return web_user.client.post("/profile/security/two-factor/recovery-codes", data={
                "regen-code": code, "csrf_token": web_user.token("/profile/security")})

        refused = regenerate(old[0])
        assert refused.status_code == 422 and 'data-field-error="regen-code"' in refused.get_data(as_text=True)
        new = RECOVERY.findall(regenerate(totp(secret, T0 + STEP)).get_data(as_text=True))
        assert len(new) == 10 and not set(new) & set(old)
        web_user.logout()
        web_user.login()
        assert second_step(web_user, old[1]).status_code == 422
        assert second_step(web_user, new[1]).status_code == 302


# ---------------------------------------------------------------- signing


def _sign_with(client: WebUser, signatory_id: int, code: str) -> TestResponse:
    return client.client.post(f"/sign/{signatory_id}/sign", data={
        "code": code, "revision": "1", "csrf_token": client.token(f"/sign/{signatory_id}")})


def _state(engine: Engine, signatory_id: int) -> str:
    with Session(engine) as session:
        signatory = session.get(Signatory, signatory_id)
        assert signatory is not None
        return signatory.state


def test_signing_with_two_factor_asks_for_the_authenticators_code_instead_of_a_mailed_one(
    sent: Round, engine: Engine, mail: MailSink, app: Flask  # noqa: F811 - the fixture imported above
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        secret, _codes = enable_two_factor(sent.semen, T0)
        clock.move_to(T0 + STEP)
        page = sent.semen.client.get(f"/sign/{sent.semen_id}").get_data(as_text=True)
        assert "Код из приложения" in page and 'name="code"' in page  # the form at once, no mail step
        mails = len(mail.to(sent.semen.email))
        asked = sent.semen.client.post(f"/sign/{sent.semen_id}/code",
                                       data={"csrf_token": csrf_from(page)})
        assert asked.status_code == 200 and len(mail.to(sent.semen.email)) == mails  # nothing mailed
        wrong = _sign_with(sent.semen, sent.semen_id, totp(secret, T0 + 30 * STEP))
        assert wrong.status_code == 422 and 'data-error-code="TOTP-INVALID"' in wrong.get_data(as_text=True)
        assert _state(engine, sent.semen_id) != SignatoryState.SIGNED
        empty = _sign_with(sent.semen, sent.semen_id, "")
        assert empty.status_code == 422 and 'data-field-error="code"' in empty.get_data(as_text=True)
        signed = _sign_with(sent.semen, sent.semen_id, totp(secret, T0 + STEP))
        assert signed.status_code == 303, signed.get_data(as_text=True)[:2000]
        assert _state(engine, sent.semen_id) == SignatoryState.SIGNED
        again = _sign_with(sent.semen, sent.semen_id, totp(secret, T0 + STEP))  # a second click signs nothing more
        assert again.status_code == 303

