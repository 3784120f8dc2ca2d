"""Rate limits on sign-up, login, refresh and password checks, counted in the app's own database.

Flask-Limiter applies the limits (fixed window) and raises the 429; the counters live in the
app's database (see ratelimit_storage), so every process and instance sharing it shares them.
If that database fails, the limiter fails open with a logged warning and leaves it alone for a
few seconds; a route that needs it answers 503 anyway.

Every attempt is counted (reserved) atomically before its password or code is checked, never
after: a limit tested first and counted after the answer lets every concurrent guess pass the
test before any of them counts. A limit that counts only failures then gives the reservation
back when the answer is not one (settle_reservations): a right password costs nothing.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import Storage

from config import RATE_SETTINGS
from store.ratelimit_storage import (
    STORAGE_SCHEME,
    fail_open,
    init_storage,
    refund_reservations,
    remember_key,
)
from web import rate_keys
from web.responses import ApiError, error_response

View = Callable[..., Any]

EXTENSION_KEY = "ratelimit"
# Flask-Limiter's own settings that its before-request hook checks (this app sets none).
LIMITER_WIDE_SETTINGS = (
    "RATELIMIT_APPLICATION",
    "RATELIMIT_DEFAULT",
    "RATELIMIT_META",
    "RATELIMIT_IN_MEMORY_FALLBACK",
)
# Counter keys this request reserved under a failure-only limit -> when the response counts.
CONDITIONAL_KEYS = "rate_limit_conditional_keys"


def _remember_login_address() -> None:
    """Record that the client address logged in to the login body's account (exempts it)."""
    account = rate_keys.login_account_key()
    state = _state()
    # No ceiling, nothing to be exempt from.
    if account is None or state is None or not state.limits.get("RATELIMIT_LOGIN_ACCOUNT_CEILING"):
        return
    seconds = int(
        current_app.config.get("REFRESH_TOKEN_TTL") or rate_keys.DEFAULT_KNOWN_ADDRESS_SECONDS
    )
    fail_open(None, functools.partial(remember_key, rate_keys.known_address_key(account), seconds))


@dataclass(frozen=True)
class LimitRule:
    """One limit of a route: the setting holding its rate, what it counts per, and when."""

    setting: str
    key: Callable[[], str | None]
    scope: str
    # None: every request counts; else each request is reserved before the view and refunded
    # after it unless this says True of its response (a failure).
    counts: Callable[[Response], bool] | None = None
    # Shared: one counter across every route with this rule, not one per route.
    shared: bool = False
    # True: this request neither tests nor counts against the rule (besides having no key).
    exempt: Callable[[], bool] | None = None


SIGNUP_RULES = (LimitRule("RATELIMIT_SIGNUP_PER_ADDRESS", rate_keys.address_key, "address"),)
LOGIN_RULES = (
    # Per account and address: one client's guesses never lock the owner out elsewhere.
    LimitRule(
        "RATELIMIT_LOGIN_PER_ACCOUNT",
        rate_keys.account_address_key,
        "account",
        rate_keys.login_failed,
    ),
    # Per account over every address (distributed guessing), except addresses it logged in from.
    LimitRule(
        "RATELIMIT_LOGIN_ACCOUNT_CEILING",
        rate_keys.login_account_key,
        "account-ceiling",
        rate_keys.login_failed,
        exempt=rate_keys.ceiling_exempt,
    ),
    LimitRule(
        "RATELIMIT_LOGIN_PER_ADDRESS", rate_keys.address_key, "address", rate_keys.login_failed
    ),
)
# Reserved by reserve_code_attempt when a login's code is about to be checked, not before the
# view: a login whose password turns out wrong never holds a code attempt.
SECOND_FACTOR_RULES = (
    LimitRule(
        "RATELIMIT_OTP_PER_ACCOUNT", rate_keys.login_account_key, "otp", rate_keys.otp_failed
    ),
)
REFRESH_RULES = (LimitRule("RATELIMIT_REFRESH_PER_ADDRESS", rate_keys.address_key, "address"),)
# Each begun passkey login stores a challenge: anonymous writes, so every request counts.
PASSKEY_OPTIONS_RULES = (
    LimitRule("RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS", rate_keys.address_key, "address"),
)
PASSWORD_CHECK_RULES = (
    # One budget per account across every route that asks for the current password.
    LimitRule(
        setting="RATELIMIT_PASSWORD_CHECK_PER_ACCOUNT",
        key=rate_keys.user_id_key,
        scope="password-check",
        counts=rate_keys.current_password_wrong,
        shared=True,
    ),
)
EMAIL_RULES = (
    LimitRule("RATELIMIT_EMAIL_PER_ADDRESS", rate_keys.address_key, "address"),
    LimitRule("RATELIMIT_EMAIL_PER_ACCOUNT", rate_keys.login_account_key, "account"),
)
ALL_RULES = (
    SIGNUP_RULES
    + LOGIN_RULES
    + SECOND_FACTOR_RULES
    + REFRESH_RULES
    + PASSKEY_OPTIONS_RULES
    + PASSWORD_CHECK_RULES
    + EMAIL_RULES
)


# The extension ---------------------------------------------------------------------------------


@dataclass
class RateLimitState:
    """Per-app state: (when enabled) the limiter, its limits and its guarded views."""

    limiter: Limiter | None = None
    limits: dict[str, str] = field(default_factory=dict)
    rate_items: dict[str, list[RateLimitItem]] = field(default_factory=dict)
    guarded_views: dict[View, View] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _state() -> RateLimitState | None:
    """Return the current app's rate-limit state, if init_rate_limits ran."""
    return current_app.extensions.get(EXTENSION_KEY)


def init_rate_limits(app: Flask) -> None:
    """Attach the limiter and the 429 handler; with RATELIMIT_ENABLED false, no limit applies."""
    state = RateLimitState()
    app.extensions[EXTENSION_KEY] = state
    init_storage(app)
    app.register_error_handler(RateLimitExceeded, handle_rate_limit_exceeded)
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    # Checked and normalised by config.load_settings; an empty rate turns its limit off.
    state.limits = {name: app.config.get(name) or "" for name in RATE_SETTINGS}
    state.rate_items = {setting: parse_many(rate) for setting, rate in state.limits.items() if rate}
    app.after_request(settle_reservations)
    state.limiter = Limiter(
        rate_keys.address_key,
        strategy="fixed-window",
        # ratelimit_storage.DatabaseStorage, registered under this scheme when it was imported.
        storage_uri=f"{STORAGE_SCHEME}://",
        headers_enabled=False,
        # The storage already fails open; this keeps any other limiter fault from becoming a 500.
        swallow_errors=True,
    )
    hooks_before = list(app.before_request_funcs.get(None, []))
    state.limiter.init_app(app)
    if not any(app.config.get(name) for name in LIMITER_WIDE_SETTINGS):
        # Every limit here wraps its own views (_limited_by) and is checked when they run; the
        # hook init_app adds before every request only checks app-wide, default and meta
        # limits, of which there are none: on every route it is pure cost, so it goes.
        app.before_request_funcs[None] = hooks_before


def handle_rate_limit_exceeded(error: RateLimitExceeded) -> Response:
    """Answer 429 in the envelope, with Retry-After in whole seconds."""
    return error_response(*_too_many_requests(_seconds_until_reset(error)))


def _too_many_requests(seconds: int) -> tuple[int, str, str, dict[str, str]]:
    """Return the 429's status, message, error and headers for a wait of seconds."""
    unit = "second" if seconds == 1 else "seconds"
    return (
        429,
        f"Too many requests, try again in {seconds} {unit}",
        "Too Many Requests",
        {"Retry-After": str(seconds)},
    )


def _seconds_until_reset(error: RateLimitExceeded) -> int:
    """Return the whole seconds until the breached window ends (its full length if unknown)."""
    window = error.limit.limit.get_expiry()
    state = _state()
    if state is None or state.limiter is None or state.limiter.current_limit is None:
        return window
    return _seconds_left(state.limiter.storage, window, state.limiter.current_limit.key)


def _seconds_left(storage: Storage, window: int, key: str) -> int:
    """Return the whole seconds until the key's window ends, at most the window's length."""
    # A window that has just ended (or a storage that just failed, so fails open): 1 second.
    reset_at = storage.get_expiry(key)
    return min(window, max(1, math.ceil(reset_at - time.time())))


def _guarded(view: View, rules: tuple[LimitRule, ...]) -> View:
    """Return the view wrapped in the current app's limits (built once per app), or the view."""
    state = _state()
    if state is None or state.limiter is None:
        return view
    guarded = state.guarded_views.get(view)
    if guarded is None:
        with state.lock:
            guarded = state.guarded_views.get(view) or _apply_rules(state, view, rules)
            state.guarded_views[view] = guarded
    return guarded


def _apply_rules(state: RateLimitState, view: View, rules: tuple[LimitRule, ...]) -> View:
    """Decorate the view with one Flask-Limiter limit per rule that has a rate."""
    assert state.limiter is not None
    guarded = view
    for rule in rules:
        rate = state.limits.get(rule.setting)
        if not rate:
            continue
        decorator = state.limiter.shared_limit if rule.shared else state.limiter.limit
        guarded = decorator(
            rate,
            key_func=functools.partial(_key_or_nothing, rule.key),
            # No key (e.g. a login body without a string email): nothing to count for this rule.
            exempt_when=functools.partial(_exempt, rule),
            # No deduct_when: Flask-Limiter then hits (reserves) before the view, atomically;
            # settle_reservations refunds the requests a failure-only rule does not count.
            scope=rule.scope,
        )(guarded)
    return guarded


def _key_or_nothing(key: Callable[[], str | None]) -> str:
    """Return the rule's counter key for this request ("" when it has none: then it is exempt)."""
    return key() or ""


def _exempt(rule: LimitRule) -> bool:
    """Tell whether this request skips the rule: it has no key, or the rule exempts it."""
    return rule.key() is None or (rule.exempt is not None and rule.exempt())


def _scope(rule: LimitRule) -> str:
    """Return the scope Flask-Limiter counts the rule under: per endpoint unless it is shared."""
    return rule.scope if rule.shared else f"{request.endpoint}:{rule.scope}"


def _counter_keys(state: RateLimitState, rule: LimitRule, identity: str) -> list[str]:
    """Return the rule's counter keys for identity, built as Flask-Limiter builds them."""
    scope = _scope(rule)
    return [item.key_for(identity, scope) for item in state.rate_items[rule.setting]]


def _expect_reservations(state: RateLimitState, rules: tuple[LimitRule, ...]) -> None:
    """Note which counters the failure-only rules may reserve, and when a response counts."""
    conditional = g.setdefault(CONDITIONAL_KEYS, {})
    for rule in rules:
        if rule.counts is None or rule.setting not in state.rate_items:
            continue
        identity = rule.key()
        if identity is not None:
            conditional.update(dict.fromkeys(_counter_keys(state, rule, identity), rule.counts))


def settle_reservations(response: Response) -> Response:
    """Refund the reservations of failure-only limits this response does not count (after_request).

    Only what this request reserved is refunded (see ratelimit_storage.refund_reservations): a
    request refused with 429, a right password, a 400 for a missing field cost nothing.
    """
    conditional = g.pop(CONDITIONAL_KEYS, None)
    if conditional:
        refunds = [key for key, counts in conditional.items() if not counts(response)]
        if refunds:
            fail_open(None, functools.partial(refund_reservations, refunds))
    return response


def reserve_code_attempt() -> None:
    """Reserve one try at a login's two-factor code before it is checked; 429 when none is left.

    Call it with the password known to be right, just before checking the code. The try is
    refunded unless the code turns out wrong (see settle_reservations).
    """
    state = _state()
    if state is None or state.limiter is None:
        return
    _expect_reservations(state, SECOND_FACTOR_RULES)
    for rule in SECOND_FACTOR_RULES:
        identity = rule.key()
        if identity is None or rule.setting not in state.rate_items:
            continue
        scope = _scope(rule)
        # Shortest window first, as Flask-Limiter tests them: a try refused there spends no other.
        for item in sorted(state.rate_items[rule.setting], key=lambda item: item.get_expiry()):
            if not state.limiter.limiter.hit(item, identity, scope):
                window = item.get_expiry()
                seconds = _seconds_left(
                    state.limiter.storage, window, item.key_for(identity, scope)
                )
                raise ApiError(*_too_many_requests(seconds))


def _limited_by(rules: tuple[LimitRule, ...]) -> Callable[[View], View]:
    """Return a decorator that applies these rules with whichever app serves the request."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            state = _state()
            if state is not None and state.limiter is not None:
                _expect_reservations(state, rules)
            return _guarded(view, rules)(*args, **kwargs)

        return limited

    return decorate


def limit_signup(view: View) -> View:
    """Limit sign-ups per client address (RATELIMIT_SIGNUP_PER_ADDRESS), every request counted."""
    return _limited_by(SIGNUP_RULES)(view)


def limit_login(view: View) -> View:
    """Limit failed logins per account and address, per account, and per address.

    Wrong two-factor codes are limited where the code is checked (reserve_code_attempt). A
    success costs nothing and makes the client's address known to the account, which
    exempts it from the account ceiling for REFRESH_TOKEN_TTL seconds.
    """
    limited = _limited_by(LOGIN_RULES)(view)

    @functools.wraps(view)
    def remember_address(*args: Any, **kwargs: Any) -> Any:
        response = limited(*args, **kwargs)
        state = _state()
        if state is not None and state.limiter is not None and _succeeded(response):
            _remember_login_address()
        return response

    return remember_address


def _succeeded(response: Any) -> bool:
    """Tell whether a view's return value is a 2xx response."""
    return isinstance(response, Response) and 200 <= response.status_code < 300


def limit_refresh(view: View) -> View:
    """Limit token refreshes per client address (RATELIMIT_REFRESH_PER_ADDRESS)."""
    return _limited_by(REFRESH_RULES)(view)


def limit_passkey_options(view: View) -> View:
    """Limit begun passkey logins per client address (RATELIMIT_PASSKEY_OPTIONS_PER_ADDRESS)."""
    return _limited_by(PASSKEY_OPTIONS_RULES)(view)


def limit_email(view: View) -> View:
    """Limit requests that send email, per client address and per email address."""
    return _limited_by(EMAIL_RULES)(view)


def limit_password_check(view: View) -> View:
    """Limit wrong current passwords per user; place under token_required (gets current_user)."""
    limited = _limited_by(PASSWORD_CHECK_RULES)(view)

    @functools.wraps(view)
    def remember_user(current_user: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        setattr(g, rate_keys.USER_ID_KEY, str(current_user["_id"]))
        return limited(current_user, *args, **kwargs)

    return remember_user
