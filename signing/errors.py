"""The domain's exceptions. Each carries a stable code; the web layer turns codes into words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

__all__ = [
    "AccountLocked",
    "AccountNotConfirmed",
    "AlreadySigned",
    "AttachmentRejected",
    "CertificateNotValidNow",
    "CertificateRevoked",
    "CodeCooldown",
    "CodeExhausted",
    "CodeExpired",
    "CodeInvalid",
    "ConfigurationError",
    "DeadlinePassed",
    "DeclineReasonRequired",
    "DocumentNotEditable",
    "DocumentNotFound",
    "DocumentNotRepeatable",
    "DomainError",
    "ExternalSignatureInvalid",
    "FieldError",
    "InvalidCredentials",
    "InvitationExpired",
    "InvitationInvalid",
    "KeyUnavailable",
    "LayoutInvalid",
    "LoginChallengeExpired",
    "LoginEventNotFound",
    "MailUnavailable",
    "NotAPdf",
    "NotYourTurn",
    "PasswordResetRequired",
    "PdfCorrupt",
    "PdfEncrypted",
    "PdfRejected",
    "PdfTooLarge",
    "PdfTooManyPages",
    "PdfTooSlow",
    "PreparationPending",
    "ReminderCooldown",
    "RoundClosed",
    "ScreenshotRejected",
    "SessionNotFound",
    "SignatureFieldMissing",
    "SignatureFieldTaken",
    "SigningFailed",
    "StaffOnly",
    "StalePreparation",
    "StaleRevision",
    "SubscriptionNotChangeable",
    "SubscriptionNotFound",
    "TicketClosed",
    "TicketNotFound",
    "TimestampUnavailable",
    "TotpInvalid",
    "TotpLocked",
    "TotpReused",
    "TwoFactorState",
    "ValidationFailed",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "APP-ERROR"


class ConfigurationError(DomainError):
    """The environment asks for something impossible or unsafe."""

    code = "CONFIG-INVALID"


class FieldError(DomainError):
    """One input field is wrong; `field` names it, `code` says why."""

    def __init__(self, field: str, code: str, **params: object) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.params = params


class ValidationFailed(DomainError):
    """Several fields are wrong at once; nothing was stored."""

    code = "FORM-INVALID"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class InvalidCredentials(DomainError):
    """Unknown login or wrong password: deliberately one answer for both."""

    code = "AUTH-INVALID"


class AccountNotConfirmed(DomainError):
    """The password is right but the email has not been confirmed yet."""

    code = "AUTH-UNCONFIRMED"

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} has not confirmed the email")
        self.user_id = user_id


class AccountLocked(DomainError):
    """Too many wrong passwords in a row: no login, even with the right password, until `until` (UTC)."""

    code = "AUTH-LOCKED"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class PasswordResetRequired(DomainError):
    """The password is right, but a new one must be set through "forgot password" before the next login."""

    code = "AUTH-RESET-REQUIRED"


class CodeInvalid(DomainError):
    """The one-time code does not match; `attempts_left` more tries remain."""

    code = "CODE-INVALID"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong code, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class CodeExpired(DomainError):
    """The code's lifetime is over, or it was already used or replaced."""

    code = "CODE-EXPIRED"


class CodeExhausted(DomainError):
    """Too many wrong entries: the code is burned and a new one must be requested."""

    code = "CODE-ATTEMPTS"


class CodeCooldown(DomainError):
    """A code was sent moments ago; another may be sent after `retry_after` seconds."""

    code = "CODE-COOLDOWN"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class MailUnavailable(DomainError):
    """The mail server refused or could not be reached."""

    code = "MAIL-UNAVAILABLE"


class PdfRejected(DomainError):
    """An input PDF cannot be accepted; subclasses say why. Nothing is stored for it."""

    code = "PDF-INVALID"
    params: Mapping[str, object] = MappingProxyType({})
    """The constructor's arguments by name (e.g. `size`, `limit`): what a message may show."""


class NotAPdf(PdfRejected):
    code = "PDF-NOT-PDF"


class PdfEncrypted(PdfRejected):
    code = "PDF-ENCRYPTED"


class PdfCorrupt(PdfRejected):
    """Damaged or truncated: the file cannot be read as a whole PDF. `reason` is technical, for the log."""

    code = "PDF-CORRUPT"

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or "corrupt PDF")
        self.reason = reason
        self.params = {"reason": reason}


class PdfTooLarge(PdfRejected):
    """The file has `size` bytes; at most `limit` are accepted."""

    code = "PDF-TOO-LARGE"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, at most {limit} accepted")
        self.size = size
        self.limit = limit
        self.params = {"size": size, "limit": limit}


class PdfTooManyPages(PdfRejected):
    """The document has `pages` pages; at most `limit` are accepted."""

    code = "PDF-TOO-MANY-PAGES"

    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(f"{pages} pages, at most {limit} accepted")
        self.pages = pages
        self.limit = limit
        self.params = {"pages": pages, "limit": limit}


class PdfTooSlow(PdfRejected):
    """Processing went past its time limit of `limit` seconds (a hostile or pathological file)."""

    code = "PDF-TIMEOUT"

    def __init__(self, limit: float) -> None:
        super().__init__(f"not read within {limit} s")
        self.limit = limit
        self.params = {"limit": limit}


class SigningFailed(DomainError):
    """A signature could not be applied; subclasses say why."""

    code = "SIGN-FAILED"


class CertificateRevoked(SigningFailed):
    code = "CERT-REVOKED"


class CertificateNotValidNow(SigningFailed):
    """Outside its validity period (expired or not yet valid)."""

    code = "CERT-NOT-VALID"


class SignatureFieldMissing(SigningFailed):
    code = "SIGN-FIELD-MISSING"


class SignatureFieldTaken(SigningFailed):
    """The signatory's field already holds a signature."""

    code = "SIGN-FIELD-SIGNED"


class PreparationPending(SigningFailed):
    """Another request is preparing a signature for the same document at this very moment."""

    code = "SIGN-PREPARATION-BUSY"


class StalePreparation(SigningFailed):
    """An external signature arrived for a preparation that no longer matches the document."""

    code = "SIGN-STALE"


class ExternalSignatureInvalid(SigningFailed):
    """A signature made outside the service does not verify against the prepared attributes and certificate."""

    code = "SIGN-BAD-SIGNATURE"


class TimestampUnavailable(SigningFailed):
    code = "TSA-UNAVAILABLE"


class KeyUnavailable(DomainError):
    """A stored private key cannot be decrypted (wrong key-encryption key or damaged record)."""

    code = "KEY-UNAVAILABLE"


class LayoutInvalid(DomainError):
    """The signature page cannot be laid out as asked: no signatories, or a field name empty, repeated or taken."""

    code = "LAYOUT-INVALID"


# ---------------------------------------------------------------- the signature round


class InvitationInvalid(DomainError):
    """The link is unknown, or no longer works: signed, declined, superseded by an edit, or the round is over."""

    code = "INVITE-INVALID"


class InvitationExpired(DomainError):
    """The link's deadline has passed."""

    code = "INVITE-EXPIRED"


class StaleRevision(SigningFailed):
    """The signature was asked for a revision that is no longer current: the document was edited meanwhile."""

    code = "REVISION-STALE"


class RoundClosed(DomainError):
    """The document is not out for signature (draft, completed, declined, withdrawn or expired); `status` says."""

    code = "ROUND-CLOSED"

    def __init__(self, status: str) -> None:
        super().__init__(f"the document is {status}")
        self.status = status


class NotYourTurn(DomainError):
    """Sequential order: an earlier signatory has not signed yet."""

    code = "ROUND-NOT-YOUR-TURN"


class DeadlinePassed(DomainError):
    """The round's deadline is over: nothing more can be signed."""

    code = "ROUND-DEADLINE-PASSED"


class AlreadySigned(DomainError):
    """The signatory has signed the current revision; a decline is no longer possible."""

    code = "ROUND-ALREADY-SIGNED"


class ReminderCooldown(DomainError):
    """Everyone pending was reminded moments ago; another reminder may go after `retry_after` seconds."""

    code = "REMIND-COOLDOWN"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class DeclineReasonRequired(FieldError):
    """A decline without a reason: every party is told why, so the reason is required."""

    def __init__(self) -> None:
        super().__init__("reason", "DECLINE-REASON-REQUIRED")


class DocumentNotFound(DomainError):
    """No such document for this person: whether it exists for someone else is never revealed."""

    code = "DOC-NOT-FOUND"


class DocumentNotEditable(DomainError):
    """The change is allowed only on a draft (or only on a document made from the form); `status` is the current one."""

    code = "DOC-NOT-EDITABLE"

    def __init__(self, status: str) -> None:
        super().__init__(f"document is {status}")
        self.status = status


class AttachmentRejected(DomainError):
    """A supporting file is refused: `reason` is `type` (not a PDF or JPEG), `size`, `corrupt` or `encrypted`."""

    code = "ATTACHMENT-INVALID"

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = {"reason": reason, **params}


class SubscriptionNotFound(DomainError):
    """No such subscription for this person."""

    code = "SUB-NOT-FOUND"


class SubscriptionNotChangeable(DomainError):
    """Pause, resume or cancel is not possible in the subscription's `status` (a cancelled one stays cancelled)."""

    code = "SUB-NOT-CHANGEABLE"

    def __init__(self, status: str) -> None:
        super().__init__(f"subscription is {status}")
        self.status = status


class DocumentNotRepeatable(DomainError):
    """«Repeat monthly» needs a document made from the form, of a kind that covers a period (act, invoice)."""

    code = "SUB-NOT-REPEATABLE"

    def __init__(self, kind: str) -> None:
        super().__init__(f"a {kind} document cannot be repeated monthly")
        self.kind = kind
# ---------------------------------------------------------------- two-factor authentication, sessions, login history


class TotpInvalid(DomainError):
    """The authenticator code (or recovery code) does not match; `attempts_left` wrong ones before the lock."""

    code = "TOTP-INVALID"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong code, {attempts_left} attempts left")
        self.attempts_left = attempts_left


class TotpReused(DomainError):
    """The code is right but was already accepted (or an earlier one was): each code works once."""

    code = "TOTP-USED"


class TotpLocked(DomainError):
    """Too many wrong codes in a row: no code is checked for `retry_after` seconds."""

    code = "TOTP-LOCKED"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class TwoFactorState(DomainError):
    """The step does not fit the factor's state: enabling twice, confirming without enrolment, disabling when off."""

    code = "TOTP-STATE"

    def __init__(self, state: str) -> None:
        super().__init__(f"two-factor authentication is {state}")
        self.state = state


class LoginChallengeExpired(DomainError):
    """The second step of a login is unknown, used or older than five minutes: the login starts over."""

    code = "LOGIN-CODE-EXPIRED"


class SessionNotFound(DomainError):
    """No such session of this account: whether it exists for someone else is never revealed."""

    code = "SESSION-NOT-FOUND"


class LoginEventNotFound(DomainError):
    """No such entry in this account's login history."""

    code = "LOGIN-EVENT-NOT-FOUND"
# ---------------------------------------------------------------- feedback tickets


class TicketNotFound(DomainError):
    """No such ticket for this person: whether it exists for someone else is never revealed."""

    code = "TICKET-NOT-FOUND"


class TicketClosed(DomainError):
    """The ticket is closed: nothing more is written in it."""

    code = "TICKET-CLOSED"


class StaffOnly(DomainError):
    """Only support staff may do this."""

    code = "STAFF-ONLY"


class ScreenshotRejected(FieldError):
    """A screenshot is refused: `reason` is `type` (not PNG or JPEG by its bytes), `size` or `corrupt`."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__("screenshot", "SCREENSHOT-INVALID", reason=reason, **params)
