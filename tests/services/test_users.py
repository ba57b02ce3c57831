"""People: Argon2id passwords, roles, rate-limited logins, revocable sessions, personal tokens,
and the record of who did what."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kizuna.errors import (
    AlreadyExists,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    TooManyRequests,
)
from kizuna.http.app import create_app
from kizuna.services import parties, tokens, users
from kizuna.services.node import Node
from kizuna.storage.schema import users as users_table
from support import FakeClock

PASSWORD = "correct horse battery"


def test_a_password_is_stored_as_argon2id_and_a_login_opens_a_session(node: Node) -> None:
    user, password = users.add(node, "aiko", roles=("analyst", "publisher"))
    assert len(password) >= 12
    with node.db.read() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and password not in stored
    s = users.login(node, "aiko", password)
    assert s.party.id == node.home_party.id and s.user.roles == ("analyst", "publisher")
    again = users.session(node, s.secret)
    assert again.user.id == user.id and again.csrf == s.csrf
    users.logout(node, s.secret)
    with pytest.raises(NotAuthenticated):
        users.session(node, s.secret)


def test_bad_names_roles_and_passwords_are_refused_by_name(sqlite_node: Node) -> None:
    with pytest.raises(InvalidInput, match="role 'root'"):
        users.add(sqlite_node, "a", roles=("root",))
    with pytest.raises(InvalidInput, match="12 characters"):
        users.add(sqlite_node, "a", password="short")
    with pytest.raises(InvalidInput, match="user name"):
        users.add(sqlite_node, "<script>")
    users.add(sqlite_node, "a")
    with pytest.raises(AlreadyExists):
        users.add(sqlite_node, "a")
    assert [u.name for u in users.list_users(sqlite_node)] == ["a"]


def test_wrong_password_unknown_name_and_disabled_user_get_one_answer(sqlite_node: Node) -> None:
    users.add(sqlite_node, "ben", password=PASSWORD)
    messages = set()
    for name, pw in (("ben", "wrong password!"), ("nobody", PASSWORD)):
        with pytest.raises(NotAuthenticated) as exc:
            users.login(sqlite_node, name, pw, client=name)
        messages.add(exc.value.message)
    users.disable(sqlite_node, "ben")
    with pytest.raises(NotAuthenticated) as exc:
        users.login(sqlite_node, "ben", PASSWORD, client="x")
    messages.add(exc.value.message)
    assert len(messages) == 1


def test_logins_are_rate_limited_per_name_then_allowed_again(
    sqlite_node: Node, clock: FakeClock
) -> None:
    users.add(sqlite_node, "cho", password=PASSWORD)
    for _ in range(users.FAILURES_PER_NAME):
        with pytest.raises(NotAuthenticated):
            users.login(sqlite_node, "cho", "not the password", client="10.0.0.1")
    with pytest.raises(TooManyRequests):
        users.login(sqlite_node, "cho", PASSWORD, client="10.0.0.2")  # even the right one
    clock.advance(users.FAILURE_WINDOW_US / 1_000_000 + 1)
    assert users.login(sqlite_node, "cho", PASSWORD).user.name == "cho"


def test_disable_and_reset_password_end_every_session(sqlite_node: Node, clock: FakeClock) -> None:
    users.add(sqlite_node, "dai", password=PASSWORD)
    s1 = users.login(sqlite_node, "dai", PASSWORD)
    new = users.reset_password(sqlite_node, "dai")
    with pytest.raises(NotAuthenticated):
        users.session(sqlite_node, s1.secret)
    with pytest.raises(NotAuthenticated):
        users.login(sqlite_node, "dai", PASSWORD)
    s2 = users.login(sqlite_node, "dai", new)
    users.disable(sqlite_node, "dai")
    with pytest.raises(NotAuthenticated):
        users.session(sqlite_node, s2.secret)
    users.disable(sqlite_node, "dai", False)
    s3 = users.login(sqlite_node, "dai", new)
    clock.advance(users.SESSION_LIFETIME_US / 1_000_000 + 1)
    with pytest.raises(NotAuthenticated):
        users.session(sqlite_node, s3.secret)


def test_csrf_token_must_match(sqlite_node: Node) -> None:
    users.add(sqlite_node, "eri", password=PASSWORD)
    s = users.login(sqlite_node, "eri", PASSWORD)
    users.check_csrf(s, s.csrf)
    for bad in (None, "", s.csrf[:-1] + "x"):
        with pytest.raises(Forbidden, match="CSRF"):
            users.check_csrf(s, bad)


def test_roles_permit_only_what_they_say(sqlite_node: Node) -> None:
    u, _ = users.add(sqlite_node, "fumi", roles=("auditor",))
    users.require(u, "audit")
    users.require(u, "read")
    for action in ("import", "publish", "admin"):
        with pytest.raises(Forbidden, match="needs the role"):
            users.require(u, action)
    u = users.set_roles(sqlite_node, "fumi", ("publisher",))
    users.require(u, "publish")
    with pytest.raises(InvalidInput):
        users.set_roles(sqlite_node, "fumi", ())


def test_a_personal_token_acts_as_its_party_and_every_write_names_the_person(
    node: Node,
) -> None:
    bsi = parties.add_party(node, "BSI", jurisdiction="DE", kind="government", scheme="DE")
    users.add(node, "hans", party="BSI", roles=("analyst",))
    personal = users.create_token(node, "hans").value
    machine = tokens.create(node, "BSI").value
    http = TestClient(create_app(node))
    bundle = {"type": "bundle", "id": "bundle--1f2f7a8e-8e1a-4b53-9a8e-2f1f0f4d1a11", "objects": []}
    for token in (personal, machine):
        r = http.post("/api/objects", json=bundle, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    # HTTP Basic with the person's name works for a personal token, with the party's name too.
    assert http.get("/api/node", auth=("hans", personal)).json()["you"]["id"] == bsi.id
    assert http.get("/api/node", auth=("BSI", personal)).status_code == 200
    assert http.get("/api/node", auth=("hans", machine)).status_code == 401
    done = users.actions(node)
    assert [(a.party_id, a.user_name, a.via, a.action) for a in done] == [
        (bsi.id, None, "api", "POST /api/objects"),
        (bsi.id, "hans", "api", "POST /api/objects"),
    ]
    users.disable(node, "hans")
    r = http.get("/api/node", headers={"Authorization": f"Bearer {personal}"})
    assert r.status_code == 401
    assert http.get("/api/node", headers={"Authorization": f"Bearer {machine}"}).status_code == 200


def test_first_login_creates_the_operator_then_gives_it_a_new_password(sqlite_node: Node) -> None:
    first = users.first_login(sqlite_node)
    admin = users.login(sqlite_node, "admin", first).user
    assert admin.roles == ("analyst", "publisher", "admin", "auditor")
    users.disable(sqlite_node, "admin")
    second = users.first_login(sqlite_node)
    assert second != first and users.login(sqlite_node, "admin", second).user.name == "admin"
