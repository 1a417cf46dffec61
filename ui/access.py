"""Who may see what: the access file, the signed-in identity, and the viewer's role and scope.

Sign-in is Streamlit's OpenID Connect support (`st.login`, `st.user`, `st.logout`), turned
on by an `[auth]` section in `.streamlit/secrets.toml`. Without one the app runs in
**local mode**: one user, everything allowed. With one, the access file named by
`SUPPORT_ANALYTICS_ACCESS` decides, deny by default:

    contact = "analytics-admins@vendor.example"   # optional: whom a refused visitor should ask
    [[users]]
    email = "priya.raman@vendor.example"
    role = "advisor"            # admin | executive | advisor | subscriber
    advisor = "Priya Raman"     # advisors: the name used in accounts.advisor
    [[users]]
    email = "*@vendor.example"  # a whole domain; the most specific entry wins
    role = "executive"

The parsing (`parse_access`) and the matching (`AccessRules.match`) are plain Python; `gate()`
is what the frame calls once per run, before anything is drawn.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from metrics.safe_text import md
from metrics.subjects.scope import Scope, advisor_book
from ui import audit

ACCESS_ENV = "SUPPORT_ANALYTICS_ACCESS"
ROLES = ("admin", "executive", "advisor", "subscriber")
# The pages a subscriber (a customer's contact) may open; every other role sees every page.
SUBSCRIBER_PAGES = frozenset({"overview", "sla_attainment", "active_tickets", "utilization", "weekly_update",
                              "governance"})
_ENTRY_KEYS = frozenset({"email", "role", "advisor", "accounts"})
_EMAIL = re.compile(r"^[^@\s*]+@[^@\s*]+\.[^@\s*]+$")
_DOMAIN = re.compile(r"^\*@[^@\s*]+\.[^@\s*]+$")
_VIEWER = "access_viewer"  # session_state key of this run's Viewer


class AccessFileError(ValueError):
    """The access file is malformed: one sentence naming the line."""


@dataclass(frozen=True)
class Grant:
    """One `[[users]]` entry of the access file."""

    email: str  # lowercased; an address or `*@domain`
    role: str
    advisor: str | None = None
    accounts: tuple[str, ...] = ()
    line: int = 0

    @property
    def specificity(self) -> int:
        return 0 if self.email.startswith("*@") else 1


@dataclass(frozen=True)
class AccessRules:
    grants: tuple[Grant, ...]
    contact: str | None = None

    def match(self, email: str) -> Grant | None:
        """The entry for `email`: its exact address first, else its domain's `*@domain`; None denies."""
        address = email.strip().lower()
        if not _EMAIL.match(address):
            return None
        domain = "*@" + address.rsplit("@", 1)[1]
        found = [g for g in self.grants if g.email in (address, domain)]
        return max(found, key=lambda g: g.specificity) if found else None

    def whom_to_ask(self) -> str:
        """The contact the file names, else its admins' addresses."""
        if self.contact:
            return self.contact
        admins = sorted(g.email for g in self.grants if g.role == "admin" and not g.email.startswith("*@"))
        return ", ".join(admins) if admins else "the dashboard's administrator"


def _line_of(lines: list[str], start: int, end: int, key: str) -> int:
    """1-based number of the line in lines[start:end] that sets `key`, else start + 1 (the entry's header)."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for index in range(start, end):
        if pattern.match(lines[index]):
            return index + 1
    return start + 1


def parse_access(text: str, name: str = "access.toml") -> AccessRules:
    """The rules of an access file's text; AccessFileError (one sentence naming the line) when malformed."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+)", str(exc))
        line = f"line {where.group(1)}" if where else "its first line"
        raise AccessFileError(f"{name} {line}: this is not valid TOML.") from None
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"^\s*\[\[\s*users\s*\]\]", line)]
    unknown_top = sorted(set(raw) - {"users", "contact"})
    if unknown_top:
        key = unknown_top[0]
        raise AccessFileError(f"{name} line {_line_of(lines, 0, len(lines), key)}: unknown key {key!r} "
                              "(expected [[users]] entries and an optional contact).")
    contact = raw.get("contact")
    if contact is not None and not isinstance(contact, str):
        raise AccessFileError(f"{name} line {_line_of(lines, 0, len(lines), 'contact')}: contact must be a string.")
    users = raw.get("users", [])
    if not isinstance(users, list) or len(headers) != len(users):
        raise AccessFileError(f"{name} line {headers[0] + 1 if headers else 1}: write each user as a [[users]] entry.")
    grants: list[Grant] = []
    seen: dict[str, int] = {}
    for number, (entry, start) in enumerate(zip(users, headers, strict=True)):
        end = headers[number + 1] if number + 1 < len(headers) else len(lines)
        grant = _grant(entry, name, lines, start, end)
        if grant.email in seen:
            raise AccessFileError(f"{name} line {grant.line}: {grant.email} is listed twice "
                                  f"(first on line {seen[grant.email]}).")
        seen[grant.email] = grant.line
        grants.append(grant)
    return AccessRules(tuple(grants), contact.strip() if contact else None)


def _grant(entry: Mapping[str, Any], name: str, lines: list[str], start: int, end: int) -> Grant:
    def fail(key: str, message: str) -> AccessFileError:
        return AccessFileError(f"{name} line {_line_of(lines, start, end, key)}: {message}")

    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key {unknown[0]!r} (a user has email, role, advisor and accounts).")
    email = entry.get("email")
    if not isinstance(email, str) or not (_EMAIL.match(email.strip()) or _DOMAIN.match(email.strip())):
        raise fail("email", "email must be an address (name@example.com) or a whole domain (*@example.com).")
    role = entry.get("role")
    if role not in ROLES:
        raise fail("role", f"role must be one of {', '.join(ROLES)}.")
    advisor = entry.get("advisor")
    accounts = entry.get("accounts", [])
    if role == "advisor" and (not isinstance(advisor, str) or not advisor.strip()):
        raise fail("advisor" if "advisor" in entry else "role",
                   "an advisor needs advisor = the name used in accounts.advisor.")
    if role != "advisor" and advisor is not None:
        raise fail("advisor", "only an advisor entry has an advisor name.")
    if role == "subscriber" and (
        not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) and a.strip() for a in accounts)
    ):
        raise fail("accounts" if "accounts" in entry else "role",
                   "a subscriber needs accounts = a list of account ids, such as [\"ACC-0002\"].")
    if role != "subscriber" and "accounts" in entry:
        raise fail("accounts", "only a subscriber entry lists accounts.")
    return Grant(
        email=email.strip().lower(),
        role=role,
        advisor=advisor.strip() if isinstance(advisor, str) else None,
        accounts=tuple(a.strip() for a in accounts),
        line=_line_of(lines, start, end, "email"),
    )


def read_access(path: Path) -> AccessRules:
    """The rules of the access file at `path` (its name only appears in messages, never the folder)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise AccessFileError(f"The access file {path.name} cannot be read, so nobody has access.") from None
    return parse_access(text, path.name)


@dataclass(frozen=True)
class Viewer:
    """Who runs this session and what they may do."""

    identity: str  # the signed-in address, or "local"
    role: str  # admin | executive | advisor | subscriber (local mode: admin)
    advisor: str | None = None
    accounts: tuple[str, ...] = ()  # a subscriber's accounts
    local: bool = False
    pages: frozenset[str] | None = field(default=None)  # None: every page

    @property
    def can_load(self) -> bool:
        """Only admins (and the one user of local mode) load data and read the audit trail."""
        return self.role == "admin"

    def may_open(self, page: str) -> bool:
        return self.pages is None or page in self.pages

    def scope(self, account_advisors: Mapping[str, str | None]) -> Scope:
        """The accounts this viewer may see, given each account's advisor (the store's accounts table)."""
        if self.role == "advisor":
            return Scope(advisor_book(self.advisor or "", account_advisors))
        if self.role == "subscriber":
            return Scope(frozenset(self.accounts))
        return Scope(None)


LOCAL = Viewer(identity="local", role="admin", local=True)


def viewer_for(email: str, grant: Grant) -> Viewer:
    return Viewer(
        identity=email.strip().lower(),
        role=grant.role,
        advisor=grant.advisor,
        accounts=grant.accounts,
        pages=SUBSCRIBER_PAGES if grant.role == "subscriber" else None,
    )


# ---------------------------------------------------------------- Streamlit: the gate


def auth_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section (sign-in on); else local mode."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def providers() -> list[str | None]:
    """The named providers of `[auth.NAME]` sections, or [None] for the one in `[auth]` itself."""
    section = st.secrets["auth"]
    named = [k for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]
    return [None] if "client_id" in section or not named else sorted(named)


def _stop_with(message: str) -> None:
    st.error(message, icon=":material/lock:")
    st.stop()


def _rules() -> AccessRules:
    name = os.environ.get(ACCESS_ENV, "").strip()
    if not name:
        _stop_with(f"Sign-in is configured but {ACCESS_ENV} names no access file, so nobody has access.")
    try:
        return read_access(Path(name))
    except AccessFileError as exc:
        _stop_with(str(exc))
        raise  # st.stop() raised already; keeps the type checker sure


def _sign_in_page() -> None:
    st.title("Support-package analytics")
    st.write("Sign in with your organisation's account to see the dashboard.")
    for provider in providers():
        label = f"Sign in with {provider}" if provider else "Sign in"
        if st.button(label, key=f"sign_in_{provider or 'default'}", type="primary", icon=":material/login:"):
            st.login(provider) if provider else st.login()
    st.stop()


def _once(event: str, identity: str) -> bool:
    """True the first time this session sees (event, identity): sign-ins and refusals are logged once each."""
    key = f"audit_{event}"
    if st.session_state.get(key) == identity:
        return False
    st.session_state[key] = identity
    return True


def whom_to_ask() -> str:
    """Whom a refused visitor should ask: the access file's contact or its admins (local mode: nobody to ask)."""
    if not auth_configured():
        return "the person who runs this dashboard"
    try:
        return read_access(Path(os.environ.get(ACCESS_ENV, ""))).whom_to_ask()
    except AccessFileError:
        return "the dashboard's administrator"


_SIGN_INS: set[tuple[str, str]] = set()  # (address, the ID token's issue time) already recorded by this process


def _new_sign_in(email: str) -> bool:
    """True once per sign-in: per ID token (its `iat`) when the provider dates it, else once per session.

    Opening another address of the app starts a new session with the same cookie: that is
    not a new sign-in.
    """
    stamp = str(st.user.get("iat") or st.user.get("auth_time") or "")
    if not stamp:
        return _once("sign_in", email)
    if (email, stamp) in _SIGN_INS:
        return False
    _SIGN_INS.add((email, stamp))
    return True


def gate() -> Viewer:
    """The viewer of this run, or a page that stops the run (sign in, no access, a malformed access file)."""
    if not auth_configured():
        viewer = LOCAL
    else:
        rules = _rules()
        if not st.user.is_logged_in:
            _sign_in_page()
        email = str(st.user.get("email") or "").strip().lower()
        grant = rules.match(email) if st.user.get("email_verified") is not False else None
        if grant is None:
            if _once("denied", email):  # each visit refused (a visit is a session)
                audit.record("denied", email or "(no email claim)", "", {})
            st.title("No access")
            st.write(f"You are signed in as {md(email) or 'an identity without an email address'}, which has no "
                     f"access to this dashboard. Ask {md(rules.whom_to_ask())} to give you access.")
            if st.button("Sign out", key="sign_out_denied", icon=":material/logout:"):
                st.logout()
            st.stop()
            raise AssertionError("unreachable")  # st.stop() raises
        viewer = viewer_for(email, grant)
        if _new_sign_in(email):
            audit.record("sign_in", viewer.identity, viewer.role, {})
    st.session_state[_VIEWER] = viewer
    return viewer


def current() -> Viewer:
    """The viewer of this run (set by `gate()`); local mode when sign-in is off; stops a run that skipped the gate."""
    viewer = st.session_state.get(_VIEWER)
    if isinstance(viewer, Viewer):
        return viewer
    if not auth_configured():
        return LOCAL
    st.stop()
    raise AssertionError("unreachable")


def sidebar_line(viewer: Viewer) -> None:
    """The one sidebar line saying who is signed in (with a sign-out button), or that this is local mode."""
    if viewer.local:
        st.caption("Local mode: no sign-in configured; one user, everything allowed.")
        return
    what = f"advisor, {viewer.advisor}'s accounts" if viewer.role == "advisor" else viewer.role
    st.caption(f"Signed in as {md(viewer.identity)} ({md(what)}).")
    if st.button("Sign out", key="sign_out", icon=":material/logout:"):
        st.logout()
