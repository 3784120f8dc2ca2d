"""Password hashing with Argon2id at OWASP's recommended cost, and a constant-cost check."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from concurrency.hub import off_the_hub

# OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB of memory, 2 iterations, 1 lane.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1


@cache
def _hasher() -> PasswordHasher:
    """Return the shared hasher (built on first use, not at import)."""
    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
    )


def hash_password(password: str) -> str:
    """Return an Argon2id hash of the password, salt and parameters included."""
    return off_the_hub(_hasher().hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether the password matches the hash; a malformed hash never matches."""
    try:
        return off_the_hub(_hasher().verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    """Return a hash of a random password, made once, to verify against for unknown accounts."""
    return hash_password("not a real password, only here so that every login costs the same")


def burn_verification(password: str) -> None:
    """Spend the time of one real verification, so unknown emails answer as slowly as wrong ones."""
    verify_password(_dummy_hash(), password)
