"""Password hashing: Argon2id parameters, and one verification per login whatever the outcome."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from crypto import passwords
from tests.helpers import PASSWORD


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every Argon2 verification the app performs (the real one still runs)."""
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, hash: str, password: str) -> bool:
        calls.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    return calls


def test_hashes_use_argon2id_at_owasp_cost():
    parameters = passwords._hasher().hash("x").split("$")

    assert parameters[1] == "argon2id"
    assert parameters[3] == "m=19456,t=2,p=1"
    assert PasswordHasher().verify(passwords.hash_password("pw"), "pw")
    assert passwords._hasher().type is Type.ID


@pytest.mark.parametrize(
    ("email", "password", "status"),
    [
        ("ada@example.com", PASSWORD, 200),
        ("ada@example.com", "Wrong-Password-1", 401),
        ("nobody@example.com", PASSWORD, 401),
    ],
    ids=["right-password", "wrong-password", "unknown-email"],
)
def test_every_login_costs_exactly_one_verification(
    client, user, verifications, email, password, status
):
    response = client.post("/users/login", json={"email": email, "password": password})

    assert response.status_code == status
    assert len(verifications) == 1


def test_login_of_a_disabled_account_costs_one_verification(
    client, user, auth_headers, verifications
):
    client.delete("/users/", headers=auth_headers)

    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})

    assert response.status_code == 401
    assert len(verifications) == 1


def test_a_weaker_hash_is_upgraded_at_login(client, db, user):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    db.users.update_one({"email": user["email"]}, {"$set": {"password_hash": weak}})

    response = client.post("/users/login", json={"email": user["email"], "password": PASSWORD})

    assert response.status_code == 200
    stored = db.users.find_one({"email": user["email"]})["password_hash"]
    assert stored != weak
    assert "m=19456,t=2,p=1" in stored


def test_a_malformed_stored_hash_never_matches():
    assert passwords.verify_password("not-a-hash", "anything") is False
