"""Staff accounts: argon2 hashes, the login rate limit held in the database, session expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from caresheet.errors import BadInputError
from caresheet.store.db import Store
from caresheet.store.team import StaffSessionRow, UserRow
from caresheet.team import accounts
from caresheet.team.accounts import Role

from .conftest import NOW, PASSWORD, add

IP = "203.0.113.7"


def test_password_is_stored_as_argon2_and_checks(store: Store) -> None:
    user = add(store, "Nurse@Clinic.example", Role.CLINICIAN)
    assert user.email == "nurse@clinic.example"
    with store.session() as session:
        stored = session.scalar(select(UserRow.password_hash))
        assert stored is not None and stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        found = accounts.authenticate(session, " NURSE@clinic.example", PASSWORD, IP, NOW)
    assert found is not None and found.id == user.id and found.role is Role.CLINICIAN


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-address", PASSWORD, Role.ADMIN, "not an email address"),
        ("a@b.example", "short", Role.ADMIN, "at least 12 characters"),
    ],
    ids=["bad-email", "short-password"],
)
def test_bad_accounts_are_refused(store: Store, email: str, password: str, role: Role,
                                  message: str) -> None:
    with store.session() as session, pytest.raises(BadInputError, match=message):
        accounts.add_user(session, email, password, role, NOW)


def test_duplicate_email_and_unknown_role_are_refused(store: Store) -> None:
    add(store, "a@b.example", Role.AUTHOR)
    with pytest.raises(BadInputError, match="already exists"):
        add(store, "A@B.example", Role.ADMIN)
    with pytest.raises(BadInputError, match="admin, clinician, author"):
        accounts.parse_role("doctor")


def test_wrong_password_and_unknown_user_look_the_same(store: Store) -> None:
    add(store, "a@b.example", Role.AUTHOR)
    for email in ("a@b.example", "nobody@b.example"):
        with store.session() as session:
            assert accounts.authenticate(session, email, "wrong password!!", IP, NOW) is None


def _fail(store: Store, email: str, ip: str, now: dt.datetime) -> str:
    with store.session() as session:
        try:
            found = accounts.authenticate(session, email, "wrong password!!", ip, now)
        except accounts.TooManyAttemptsError as error:
            return f"locked: {error}"
    return "ok" if found else "wrong"


def test_rate_limit_after_five_failures_per_account_and_address(store: Store) -> None:
    add(store, "a@b.example", Role.CLINICIAN)
    results = [_fail(store, "a@b.example", IP, NOW + dt.timedelta(seconds=i)) for i in range(6)]
    assert results[:5] == ["wrong"] * 5
    assert results[5].startswith("locked")
    # Even the right password is refused while locked: the limit is checked first.
    with store.session() as session, pytest.raises(accounts.TooManyAttemptsError):
        accounts.authenticate(session, "a@b.example", PASSWORD, IP, NOW + dt.timedelta(minutes=1))
    # Another address is not locked out by this one.
    with store.session() as session:
        assert accounts.authenticate(session, "a@b.example", PASSWORD, "198.51.100.1", NOW)
    # After the 15-minute window the account works again from the first address.
    later = NOW + dt.timedelta(minutes=16)
    with store.session() as session:
        assert accounts.authenticate(session, "a@b.example", PASSWORD, IP, later) is not None


def test_rate_limit_holds_across_processes(db_url: str) -> None:
    """Two stores on one database stand for two app processes: the count is shared."""
    first, second = Store.open(db_url), Store.open(db_url)
    try:
        add(first, "a@b.example", Role.CLINICIAN)
        for i in range(3):
            _fail(first, "a@b.example", IP, NOW + dt.timedelta(seconds=i))
        for i in range(2):
            _fail(second, "a@b.example", IP, NOW + dt.timedelta(seconds=10 + i))
        assert _fail(second, "a@b.example", IP, NOW + dt.timedelta(seconds=20)).startswith("locked")
    finally:
        first.close()
        second.close()


def test_sessions_store_only_a_hash_and_expire(store: Store) -> None:
    user = add(store, "a@b.example", Role.ADMIN)
    with store.session() as session:
        login = accounts.start_session(session, user, IP, NOW)
    with store.session() as session:
        keys = list(session.scalars(select(StaffSessionRow.token_hash)))
        assert keys == [accounts.token_hash(login.token)] and login.token not in keys
        resumed = accounts.resume_session(session, login.token, NOW + dt.timedelta(minutes=30))
        assert resumed is not None and resumed.user.id == user.id
        assert resumed.csrf_token == login.csrf_token
        assert accounts.resume_session(session, "made-up-token", NOW) is None
    # Idle for longer than the idle limit: gone.
    idle = NOW + dt.timedelta(minutes=30) + accounts.SESSION_IDLE + dt.timedelta(seconds=1)
    with store.session() as session:
        assert accounts.resume_session(session, login.token, idle) is None
    # Active all along but past the absolute lifetime: gone too.
    with store.session() as session:
        second = accounts.start_session(session, user, IP, NOW)
    moment = NOW
    while moment < NOW + accounts.SESSION_LIFETIME - dt.timedelta(hours=1):
        moment += dt.timedelta(hours=1)
        with store.session() as session:
            assert accounts.resume_session(session, second.token, moment) is not None
    with store.session() as session:
        end = NOW + accounts.SESSION_LIFETIME
        assert accounts.resume_session(session, second.token, end) is None


def test_disabling_a_user_ends_their_sessions(store: Store) -> None:
    user = add(store, "a@b.example", Role.CLINICIAN)
    with store.session() as session:
        login = accounts.start_session(session, user, IP, NOW)
        accounts.set_active(session, user.id, False)
    with store.session() as session:
        assert accounts.resume_session(session, login.token, NOW) is None
        assert accounts.authenticate(session, "a@b.example", PASSWORD, IP, NOW) is None


def test_forty_parallel_wrong_passwords_get_five_checks(store: Store) -> None:
    """The count, the password check and the record of the attempt happen under one lock:
    without it PostgreSQL let 19 of 40 simultaneous attempts through to the password check."""
    import threading

    from caresheet.store.team import LoginAttemptRow

    add(store, "raced@clinic.example", Role.CLINICIAN)
    start = threading.Barrier(40)
    refused: list[int] = []

    def attempt() -> None:
        start.wait()
        try:
            with store.session() as session:
                assert accounts.authenticate(session, "raced@clinic.example",
                                             "wrong password!", IP, NOW) is None
        except accounts.TooManyAttemptsError:
            refused.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.session(write=False) as session:
        checked = session.scalars(select(LoginAttemptRow.succeeded)).all()
    assert checked == [False] * accounts.RATE_LIMIT_FAILURES
    assert len(refused) == 40 - accounts.RATE_LIMIT_FAILURES
