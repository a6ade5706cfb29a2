"""Route × role: every route of the app (read from `app.url_map`, so routes added later are covered too) is asked
for by an anonymous visitor, the document's and ticket's owner, another user, a staff member and the counterparty
who signs the owner's document, with the owner's objects in its URL. Whoever the matrix does not allow gets 401,
403, 404 or the login page — never 200, never the owner's data, never 500. A route missing from the matrix fails the
test: whoever adds a route says here who may open it.

The matrix covers documents (and their attachments, signatories, invitation links), feedback tickets, login
sessions and login history (/profile/security), and subscriptions."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from signing import documents, feedback, logins, passwords, rounds, sessions, subscriptions
from signing.config import Settings
from signing.models import LoginResult, OutboxMessage, User
from tests.conftest import PASSWORD, MailSink, WebUser
from tests.signing.document_fixtures import IP, NOW, drafted, person

ANONYMOUS, OWNER, OTHER, STAFF, COUNTERPARTY = "anonymous", "owner", "other", "staff", "counterparty"
ROLES = (ANONYMOUS, OWNER, OTHER, STAFF, COUNTERPARTY)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANONYMOUS}
PARTIES = frozenset({OWNER, COUNTERPARTY})
"""The document's initiator and its signatory with an account: both see the document."""


@dataclass(frozen=True)
class Access:
    """Who may use a route, and who of them may see the owner's data in what it answers."""

    allowed: frozenset[str]
    sees: frozenset[str] | None = None
    """Roles whose answer may hold the owner's data; `allowed` when None. Roles outside it get a page, not the data."""

    @property
    def seeing(self) -> frozenset[str]:
        return self.allowed if self.sees is None else self.sees


PUBLIC = Access(EVERYONE, sees=frozenset())
ACCOUNT_PAGE = Access(SIGNED_IN, sees=frozenset())
"""A page of the signed-in person's own (their profile, a blank form): nobody else's data on it."""

OWN_SECURITY = Access(SIGNED_IN, sees=frozenset({OWNER}))
"""The security page and its forms: each person's own sessions and history (only the owner's carry the marker)."""

MATRIX: dict[str, Access] = {
    "static": PUBLIC,
    "accounts.register": PUBLIC,
    "accounts.confirm": PUBLIC,
    "accounts.resend": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": PUBLIC,
    "cabinet.home": PUBLIC,
    "cabinet.index": Access(SIGNED_IN, sees=PARTIES),
    "status.healthz": PUBLIC,
    "status.page": PUBLIC,
    "i18n.switch": PUBLIC,
    "verify.page": PUBLIC,
    "pki.issuing_ca_certificate": PUBLIC,
    "pki.issuing_ca_crl": PUBLIC,
    "pki.root_ca_certificate": PUBLIC,
    "pki.root_ca_crl": PUBLIC,
    # documents: the initiator, and a signatory with an account, see them; changes are the initiator's
    "documents.new": ACCOUNT_PAGE,
    "documents.create": ACCOUNT_PAGE,
    "documents.upload": ACCOUNT_PAGE,
    "documents.show": Access(PARTIES),
    "documents.pdf": Access(PARTIES),
    "attachments.add": Access(frozenset({OWNER})),
    "attachments.download": Access(PARTIES),
    "rounds.send": Access(frozenset({OWNER})),
    "rounds.tracker": Access(PARTIES),
    "rounds.remind": Access(frozenset({OWNER})),
    "rounds.withdraw": Access(frozenset({OWNER})),
    "rounds.edit_form": Access(frozenset({OWNER})),
    "rounds.edit": Access(frozenset({OWNER})),
    "rounds.final_pdf": Access(PARTIES),
    "rounds.certificate": Access(PARTIES),
    # the signatory's own page: the account that is this signatory (or the guest session of exactly this one)
    "signing_page.page": Access(frozenset({COUNTERPARTY})),
    "signing_page.pdf": Access(frozenset({COUNTERPARTY})),
    "signing_page.attachment": Access(frozenset({COUNTERPARTY})),
    "signing_page.final_pdf": Access(frozenset({COUNTERPARTY})),
    "signing_page.certificate": Access(frozenset({COUNTERPARTY})),
    "signing_page.create_account": Access(frozenset({COUNTERPARTY})),
    "signing_page.request_sign_code": Access(frozenset({COUNTERPARTY})),
    "signing_page.sign": Access(frozenset({COUNTERPARTY})),
    "signing_page.decline": Access(frozenset({COUNTERPARTY})),
    "signing_page.leave": Access(EVERYONE, sees=frozenset()),  # ends this browser's guest session, if any
    # the personal link: the token is the credential, whoever holds it gets the code form (the code goes by mail)
    "signing_page.invitation": Access(EVERYONE, sees=frozenset({COUNTERPARTY})),
    "signing_page.admit": Access(EVERYONE, sees=frozenset({COUNTERPARTY})),
    "signing_page.resend_admission_code": Access(EVERYONE, sees=frozenset({COUNTERPARTY})),
    # the profile: always one's own
    "profile.page": ACCOUNT_PAGE,
    "profile.save_details": ACCOUNT_PAGE,
    "profile.request_change": ACCOUNT_PAGE,
    "profile.confirm_change": ACCOUNT_PAGE,
    # feedback tickets: the author and staff
    "feedback.index": Access(SIGNED_IN, sees=frozenset({OWNER})),
    "feedback.new": ACCOUNT_PAGE,
    "feedback.create": ACCOUNT_PAGE,
    "feedback.all_tickets": Access(frozenset({STAFF})),
    "feedback.show": Access(frozenset({OWNER, STAFF})),
    "feedback.screenshot": Access(frozenset({OWNER, STAFF})),
    "feedback.reply": Access(frozenset({OWNER, STAFF})),
    "feedback.close": Access(frozenset({STAFF})),
    # password recovery and the login's second step: anyone may ask; nobody's data in the answer
    "recovery.forgot": PUBLIC,
    "recovery.reset": PUBLIC,
    "recovery.resend": PUBLIC,
    "two_factor.login_code": PUBLIC,
    # the security page: one's own factor, sessions and login history
    "security.page": OWN_SECURITY,
    "security.start_enrolment": OWN_SECURITY,
    "security.enrol": OWN_SECURITY,
    "security.confirm": OWN_SECURITY,
    "security.recovery_codes": OWN_SECURITY,
    "security.disable": OWN_SECURITY,
    "security.end_other_sessions": OWN_SECURITY,
    "security.end_session": Access(frozenset({OWNER})),
    "security.not_me": Access(frozenset({OWNER})),
    # subscriptions: the initiator's own
    "subscriptions.index": Access(SIGNED_IN, sees=frozenset({OWNER})),
    "subscriptions.number_example": ACCOUNT_PAGE,
    "subscriptions.repeat_form": Access(frozenset({OWNER})),
    "subscriptions.repeat": Access(frozenset({OWNER})),
    "subscriptions.pause": Access(frozenset({OWNER})),
    "subscriptions.resume": Access(frozenset({OWNER})),
    "subscriptions.cancel": Access(frozenset({OWNER})),
    "subscriptions.retry": Access(frozenset({OWNER})),
}

TICKET_TEXT = "Секретное-обращение-владельца 7Q4"
DEVICE = "Секретный-браузер-владельца 9Z1"
"""The user agent of the owner's other session: on the owner's security page, on nobody else's."""
MUTATIONS_SKIPPED_FOR_ALLOWED = frozenset({"accounts.logout", "security.not_me", "security.end_other_sessions"})
"""POSTs the allowed roles do not send: logging out, «this wasn't me» and ending the other sessions would end the
role's browser (or the session the matrix asks about) for the rest of the matrix."""


@dataclass
class World:
    """The owner's objects and a browser per role."""

    clients: dict[str, FlaskClient]
    arguments: dict[str, object]
    markers: tuple[str, ...]
    """Texts only the owner's data holds: a document's title and a ticket's description."""
    notes: list[str] = field(default_factory=list)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def _account(session: Session, n: int, *, staff: bool = False) -> User:
    user = person(session, n)
    user.password_hash = passwords.hash_password(PASSWORD)
    user.is_staff = staff
    return user


def _build(session: Session, settings: Settings) -> tuple[dict[str, object], tuple[str, ...], dict[str, User]]:
    users = {OWNER: _account(session, 1), OTHER: _account(session, 2), STAFF: _account(session, 3, staff=True),
             COUNTERPARTY: _account(session, 4)}
    document = drafted(session, users[OWNER])
    attachment = documents.add_attachment(session, document, filename="scan.jpg", data=_jpeg(), now=NOW, ip=IP)
    rounds.send(session, document, users[OWNER],
                [rounds.SignatorySpec("Контрагентов Игорь", users[COUNTERPARTY].email, organization="ООО «Ромашка»")],
                order="parallel", deadline=None, initiator_signs=False, settings=settings, now=NOW, ip=IP)
    signatory = next(s for s in document.signatories if s.email == users[COUNTERPARTY].email)
    assert signatory.user_id == users[COUNTERPARTY].id
    invitation = session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == signatory.email)).first()
    token = re.search(r"/s/([A-Za-z0-9_-]{40,})", invitation or "")
    assert token, "no invitation link written"
    ticket = feedback.open_ticket(session, users[OWNER], feedback.TicketRequest(
        category="error", description=TICKET_TEXT, screenshot=_png()), now=NOW)
    elsewhere = sessions.start_session(session, users[OWNER], "198.51.100.7", DEVICE)
    event = logins.record(session, users[OWNER], LoginResult.SUCCESS, logins.Attempt("198.51.100.7", DEVICE, NOW),
                          session_id=elsewhere.record.id)
    subscription = subscriptions.create_from_document(
        session, users[OWNER], document, subscriptions.SubscriptionTerms("{n}/{yyyy}", 5, date(2026, 12, 1)), now=NOW)
    session.commit()
    arguments: dict[str, object] = {
        "document_id": document.id, "attachment_id": attachment.id, "signatory_id": signatory.id,
        "token": token.group(1), "ticket_id": ticket.id, "kind": "email", "filename": "css/app.css",
        "session_id": elsewhere.record.id, "event_id": event.id, "subscription_id": subscription.id,
    }
    return arguments, (document.title, TICKET_TEXT, DEVICE), users


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 200, 200)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def world(app: Flask, engine: Engine, settings: Settings, mail: MailSink) -> World:
    app.config["WTF_CSRF_ENABLED"] = False  # the matrix asks about access; CSRF has its own tests
    with Session(engine, expire_on_commit=False) as session:
        arguments, markers, users = _build(session, settings)
    clients = {ANONYMOUS: app.test_client()}
    for role, user in users.items():
        browser = WebUser(app.test_client(), mail, email=user.email)
        assert browser.login().status_code == 302, f"{role} could not log in"
        clients[role] = browser.client
    return World(clients, arguments, markers)


def _routes(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.endpoint, rule.rule))


def _url(app: Flask, rule: Rule, arguments: dict[str, object]) -> str:
    missing = set(rule.arguments) - set(arguments)
    assert not missing, f"{rule.rule}: the matrix has no object for {sorted(missing)}; add one to World"
    with app.test_request_context():
        return rule.build({name: arguments[name] for name in rule.arguments}, append_unknown=False)[1]


def _denied(response: TestResponse) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def _is_download(response: TestResponse) -> bool:
    return response.mimetype in ("application/pdf", "image/png", "image/jpeg") or "attachment" in response.headers.get(
        "Content-Disposition", "")


def _ask(client: FlaskClient, method: str, url: str) -> TestResponse:
    return client.open(url, method=method, data={} if method == "POST" else None)


def test_every_route_has_an_entry_in_the_matrix(app: Flask) -> None:
    unlisted = sorted({rule.endpoint for rule in _routes(app)} - set(MATRIX))
    assert unlisted == [], (
        f"routes without an entry in MATRIX: {unlisted} — say there who may open each (and add its objects to "
        "World when it takes an id)")


def test_nobody_reaches_another_persons_documents_or_tickets_and_nothing_fails(app: Flask, world: World) -> None:
    problems: list[str] = []
    rules = [(rule, method) for rule in _routes(app) if rule.endpoint in MATRIX
             for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    # every refusal first: the allowed roles' requests below may change the document
    for rule, method in rules:
        access, url = MATRIX[rule.endpoint], _url(app, rule, world.arguments)
        for role in ROLES:
            if role in access.allowed:
                continue
            response = _ask(world.clients[role], method, url)
            if not _denied(response):
                problems.append(f"{role} {method} {url}: {response.status_code}, expected 401/403/404/login")
            problems += _leaks(role, method, url, response, access, world)
    for rule, method in rules:
        access, url = MATRIX[rule.endpoint], _url(app, rule, world.arguments)
        if method != "GET" and rule.endpoint in MUTATIONS_SKIPPED_FOR_ALLOWED:
            continue
        for role in sorted(access.allowed):
            response = _ask(world.clients[role], method, url)
            if response.status_code >= 500:
                problems.append(f"{role} {method} {url}: {response.status_code}")
            if method == "GET" and _is_download(response) and "no-store" not in response.headers.get(
                    "Cache-Control", ""):
                problems.append(f"{role} {method} {url}: a download without Cache-Control: no-store")
            problems += _leaks(role, method, url, response, access, world)
    assert problems == [], "\n".join(problems)


def _leaks(role: str, method: str, url: str, response: TestResponse, access: Access, world: World) -> list[str]:
    if role in access.seeing:
        return []
    textual = response.mimetype.startswith("text/") or response.mimetype == "application/json"
    body = response.get_data(as_text=True) if textual else ""
    if _is_download(response) and response.status_code == 200:
        return [f"{role} {method} {url}: got the owner's file"]
    return [f"{role} {method} {url}: the answer holds «{marker}»" for marker in world.markers if marker in body]


def test_the_matrix_does_see_the_data_it_guards(app: Flask, world: World) -> None:
    """The markers are on the owner's pages (else the leak check above would prove nothing)."""
    owner = world.clients[OWNER]
    document_page = owner.get(f"/documents/{world.arguments['document_id']}").get_data(as_text=True)
    ticket_page = owner.get(f"/feedback/{world.arguments['ticket_id']}").get_data(as_text=True)
    security_page = owner.get("/profile/security").get_data(as_text=True)
    assert world.markers[0] in document_page and world.markers[1] in ticket_page and world.markers[2] in security_page
    staff_page = world.clients[STAFF].get(f"/feedback/{world.arguments['ticket_id']}").get_data(as_text=True)
    assert world.markers[1] in staff_page
    signatory_page = world.clients[COUNTERPARTY].get(f"/sign/{world.arguments['signatory_id']}")
    assert signatory_page.status_code == 200 and world.markers[0] in signatory_page.get_data(as_text=True)
