"""Accounts of the editors' desk: users and sessions in the store, sign-in over HTTP with CSRF, ``lintas users``.

Store and HTTP tests run on SQLite and, with LINTAS_TEST_POSTGRES_URL, on PostgreSQL (a database of this file's).
Passwords are hashed with cheap argon2 parameters here (the real ones take ~0.2 s a hash), except where a test
says otherwise.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from dbs import database_url
from deskutil import PASSWORD, add_desk_users, csrf_of
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from lintas.cli.main import cli, main
from lintas.errors import InputError
from lintas.service import create_app
from lintas.service.accounts import require_editor_session
from lintas.store import accounts, db
from lintas.store.schema import sessions, users

PG_DATABASE = "lintas_accounts_test"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    return database_url(request.param, tmp_path, PG_DATABASE)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The accounts' clock, frozen; tests move it with ``clock[0] += timedelta(...)``."""
    now = [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    monkeypatch.setattr(accounts, "utcnow", lambda: now[0])
    return now


def password_hash(store: Engine, username: str) -> str:
    with store.connect() as conn:
        return str(conn.execute(select(users.c.password_hash).where(users.c.username == username)).scalar_one())


def session_rows(store: Engine) -> list[Any]:
    with store.connect() as conn:
        return list(conn.execute(select(sessions)))


# --- users in the store --------------------------------------------------------------------------------------


def test_password_is_stored_as_an_argon2_hash(store: Engine) -> None:
    user = accounts.create_user(store, " Ana ", PASSWORD, "editor", display_name="Ana Putri")
    assert (user.username, user.display_name, user.role, user.name) == ("ana", "Ana Putri", "editor", "Ana Putri")
    assert user.created_at.tzinfo is not None and not user.disabled and user.last_login_at is None
    stored = password_hash(store, "ana")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password" not in repr(user).lower()
    with store.connect() as conn:
        row = conn.execute(select(users)).one()
    assert PASSWORD not in repr(tuple(row))


@pytest.mark.parametrize(
    ("username", "password", "role", "needle"),
    [
        ("", PASSWORD, "editor", "username"),
        ("has space", PASSWORD, "editor", "username"),
        ("x" * 101, PASSWORD, "editor", "username"),
        ("-dash", PASSWORD, "editor", "username"),
        ("budi", "short", "editor", "8 to 1024"),
        ("budi", "x" * 1025, "editor", "8 to 1024"),
        ("budi", PASSWORD, "root", "unknown role"),
    ],
)
def test_create_user_refuses_bad_input(store: Engine, username: str, password: str, role: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        accounts.create_user(store, username, password, role)
    assert accounts.list_users(store) == []


def test_usernames_are_unique_whatever_their_case(store: Engine) -> None:
    accounts.create_user(store, "ana", PASSWORD, "editor")
    with pytest.raises(ValueError, match="taken"):
        accounts.create_user(store, "ANA", PASSWORD, "admin")
    assert [user.username for user in accounts.list_users(store)] == ["ana"]


def test_authenticate_takes_only_the_right_password_of_an_active_user(store: Engine) -> None:
    accounts.create_user(store, "ana", PASSWORD, "editor")
    user = accounts.authenticate(store, "Ana", PASSWORD)
    assert user is not None and user.username == "ana" and user.last_login_at is not None
    assert accounts.authenticate(store, "ana", PASSWORD + "!") is None
    assert accounts.authenticate(store, "ana", "") is None
    assert accounts.authenticate(store, "nobody", PASSWORD) is None
    assert accounts.authenticate(store, "not a name", PASSWORD) is None
    disabled = accounts.disable_user(store, "ana")
    assert disabled is not None and disabled.disabled
    assert accounts.authenticate(store, "ana", PASSWORD) is None
    assert accounts.enable_user(store, "ana") is not None
    assert accounts.authenticate(store, "ana", PASSWORD) is not None
    assert accounts.disable_user(store, "nobody") is None and accounts.enable_user(store, "nobody") is None


def test_unknown_users_cost_a_hash_verification_too(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.create_user(store, "ana", PASSWORD, "editor")
    verified: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            verified.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "PASSWORD_HASHER", Counting(time_cost=1, memory_cost=8, parallelism=1))
    for username in ("ana", "nobody", "not a name"):
        assert accounts.authenticate(store, username, "wrong password") is None
    assert len(verified) == 3 and all(value.startswith("$argon2id$") for value in verified)


def test_an_outdated_hash_is_replaced_at_sign_in(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.create_user(store, "ana", PASSWORD, "editor")  # cheap parameters
    old = password_hash(store, "ana")
    monkeypatch.setattr(accounts, "PASSWORD_HASHER", PasswordHasher())  # today's defaults
    assert accounts.authenticate(store, "ana", "wrong password") is None
    assert password_hash(store, "ana") == old  # only a successful sign-in rehashes
    assert accounts.authenticate(store, "ana", PASSWORD) is not None
    new = password_hash(store, "ana")
    assert new != old and not PasswordHasher().check_needs_rehash(new)
    assert accounts.authenticate(store, "ana", PASSWORD) is not None


def test_set_password_changes_it_and_closes_sessions(store: Engine) -> None:
    user = accounts.create_user(store, "ana", PASSWORD, "editor")
    token, _ = accounts.open_session(store, user.id, timedelta(hours=1))
    with pytest.raises(ValueError, match="8 to 1024"):
        accounts.set_password(store, "ana", "short")
    assert accounts.set_password(store, "ana", "a new passphrase") is not None
    assert accounts.authenticate(store, "ana", PASSWORD) is None
    assert accounts.authenticate(store, "ana", "a new passphrase") is not None
    assert accounts.session_user(store, token) is None
    assert accounts.set_password(store, "nobody", "a new passphrase") is None


# --- sessions in the store -----------------------------------------------------------------------------------


def test_session_token_is_stored_hashed(store: Engine) -> None:
    user = accounts.create_user(store, "ana", PASSWORD, "editor")
    token, csrf = accounts.open_session(store, user.id, timedelta(hours=1))
    assert len(token) >= 43 and len(csrf) >= 43 and token != csrf
    [row] = session_rows(store)
    assert row.id == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(tuple(row))
    found = accounts.session_user(store, token)
    assert found is not None and found[0].username == "ana" and found[1] == csrf
    for bad in ("", "x" * 43, row.id, token + "x", "x" * 5000):
        assert accounts.session_user(store, bad) is None


def test_sessions_expire_and_are_pruned(store: Engine, clock: list[datetime]) -> None:
    user = accounts.create_user(store, "ana", PASSWORD, "editor")
    token, _ = accounts.open_session(store, user.id, timedelta(hours=1))
    other, _ = accounts.open_session(store, user.id, timedelta(hours=3))
    clock[0] += timedelta(hours=1)
    assert accounts.session_user(store, token) is None
    assert accounts.session_user(store, other) is not None
    assert accounts.prune_sessions(store) == 1
    assert len(session_rows(store)) == 1
    with pytest.raises(ValueError, match="positive"):
        accounts.open_session(store, user.id, timedelta(0))


def test_a_session_slides_with_use_up_to_its_maximum_age(store: Engine, clock: list[datetime]) -> None:
    user = accounts.create_user(store, "ana", PASSWORD, "editor")
    token, _ = accounts.open_session(store, user.id, timedelta(hours=1))
    start = clock[0]
    clock[0] += timedelta(seconds=30)
    assert accounts.session_user(store, token) is not None
    assert session_rows(store)[0].last_seen_at == start  # not written within a minute
    clock[0] = start + timedelta(minutes=50)
    assert accounts.session_user(store, token) is not None
    [row] = session_rows(store)
    assert row.last_seen_at == clock[0] and row.expires_at == clock[0] + timedelta(hours=1)
    clock[0] += timedelta(minutes=59)
    assert accounts.session_user(store, token) is not None  # 1 h 49 min after sign-in: kept alive by use
    while clock[0] < start + accounts.MAX_SESSION_AGE - timedelta(minutes=30):
        clock[0] += timedelta(minutes=45)
        assert accounts.session_user(store, token) is not None
    clock[0] = start + accounts.MAX_SESSION_AGE
    assert accounts.session_user(store, token) is None  # however much it is used


def test_closing_and_disabling_end_sessions(store: Engine) -> None:
    ana = accounts.create_user(store, "ana", PASSWORD, "editor")
    budi = accounts.create_user(store, "budi", PASSWORD, "admin")
    first, _ = accounts.open_session(store, ana.id, timedelta(hours=1))
    second, _ = accounts.open_session(store, ana.id, timedelta(hours=1))
    kept, _ = accounts.open_session(store, budi.id, timedelta(hours=1))
    assert accounts.close_session(store, first) and not accounts.close_session(store, first)
    assert accounts.session_user(store, first) is None and accounts.session_user(store, second) is not None
    accounts.disable_user(store, "ana")
    assert accounts.session_user(store, second) is None
    assert accounts.session_user(store, kept) is not None
    assert [user.username for user in accounts.list_users(store, include_disabled=False)] == ["budi"]


# --- signing in over HTTP ------------------------------------------------------------------------------------

_NEXT_FIELD = re.compile(r'name="next" value="([^"]*)"')


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as test_client:
        yield test_client  # no API key: the desk needs none


@pytest.fixture
def app_store(client: TestClient, db_url: str) -> Iterator[Engine]:
    """An engine on the app's database, with an editor ana and a reader rudi."""
    engine = db.make_engine(db_url)
    try:
        add_desk_users(engine, "Ana <Putri>")
        yield engine
    finally:
        engine.dispose()


def login_csrf(client: TestClient, path: str = "/desk/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def sign_in(client: TestClient, username: str = "ana", password: str = PASSWORD, **fields: str) -> Any:
    form = {"username": username, "password": password, "csrf_token": login_csrf(client), **fields}
    return client.post("/desk/login", data=form)


def cookies_set(response: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def desk_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/desk/").text)


def test_login_page_is_a_labelled_form_with_a_csrf_token(client: TestClient) -> None:
    page = client.get("/desk/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    for field in ("username", "password"):
        assert f'<label for="{field}">' in text and f'id="{field}" name="{field}"' in text
    assert 'autocomplete="current-password"' in text and 'name="viewport"' in text and ":focus-visible" in text
    token = csrf_of(text)
    cookie = cookies_set(page)["lintas_csrf"]
    assert f"lintas_csrf={token};" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert login_csrf(client) == token  # the browser's token is kept while its cookie is


def test_login_needs_the_double_submitted_csrf_token(client: TestClient, app_store: Engine) -> None:
    no_field = client.post("/desk/login", data={"username": "ana", "password": PASSWORD})
    assert no_field.status_code == 403 and "expired" in no_field.text
    token = login_csrf(client)
    wrong = client.post("/desk/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token[::-1]})
    assert wrong.status_code == 403
    client.cookies.clear()
    no_cookie = client.post("/desk/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token})
    assert no_cookie.status_code == 403
    json_body = client.post("/desk/login", json={"username": "ana", "password": PASSWORD, "csrf_token": token})
    assert json_body.status_code == 403
    assert session_rows(app_store) == []


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, app_store: Engine) -> None:
    wrong = sign_in(client, "ana", "wrong password")
    unknown = sign_in(client, "nobody", "wrong password")
    for response in (wrong, unknown):
        assert response.status_code == 401 and "lintas_session" not in cookies_set(response)
        assert 'role="alert"' in response.text and "wrong password" not in response.text

    def notice(response: Any) -> str:
        return re.search(r'<p class="notice"[^>]*>(.*?)</p>', response.text, re.S).group(1)  # type: ignore[union-attr]

    assert notice(wrong) == notice(unknown) and "not right" in notice(wrong)
    accounts.disable_user(app_store, "ana")
    assert sign_in(client).status_code == 401
    assert session_rows(app_store) == []


def test_sign_in_sets_a_session_cookie_and_the_desk_shows_the_user(client: TestClient, app_store: Engine) -> None:
    response = sign_in(client, "ANA")
    assert response.status_code == 303 and response.headers["location"] == "/desk/"
    cookies = cookies_set(response)
    session_cookie = cookies["lintas_session"]
    for flag in ("HttpOnly", "SameSite=lax", "Path=/;"):
        assert flag in session_cookie + ";"
    assert "Secure" not in session_cookie  # plain http, LINTAS_COOKIE_SECURE unset
    assert "Max-Age=0" in cookies["lintas_csrf"]  # the sign-in token is spent
    token = client.cookies["lintas_session"]
    [row] = session_rows(app_store)
    assert row.id == hashlib.sha256(token.encode()).hexdigest() and token not in repr(tuple(row))
    desk = client.get("/desk/")
    assert desk.status_code == 200
    assert "Signed in as Ana &lt;Putri&gt; (editor)." in desk.text  # autoescaped
    assert client.get("/desk/login").headers["location"] == "/desk/"  # signed in already


def test_next_goes_back_to_local_paths_only(client: TestClient, app_store: Engine) -> None:
    bounce = client.get("/desk/?x=1")
    assert bounce.status_code == 303 and bounce.headers["location"] == "/desk/login?next=/desk/%3Fx%3D1"
    page = client.get("/desk/login", params={"next": "/desk/?x=1"})
    assert _NEXT_FIELD.search(page.text).group(1) == "/desk/?x=1"  # type: ignore[union-attr]
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "/a\nb"):
        page = client.get("/desk/login", params={"next": evil})
        assert _NEXT_FIELD.search(page.text).group(1) == "/desk/", evil  # type: ignore[union-attr]
    assert sign_in(client, next="//evil.example").headers["location"] == "/desk/"
    assert client.get("/desk/login", params={"next": "//evil.example"}).headers["location"] == "/desk/"
    client.cookies.clear()
    assert sign_in(client, next="/desk/?x=1").headers["location"] == "/desk/?x=1"


def test_a_role_below_editor_gets_a_403_page(client: TestClient, app_store: Engine) -> None:
    assert sign_in(client, "rudi").status_code == 303
    page = client.get("/desk/")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "editor role or higher" in page.text and "rudi (read)" in page.text
    assert 'action="/desk/logout"' in page.text  # so they can switch accounts
    with pytest.raises(ValueError, match="unknown role"):
        require_editor_session("root")


def test_logout_needs_the_session_csrf_token(client: TestClient, app_store: Engine) -> None:
    assert sign_in(client).status_code == 303
    csrf = desk_csrf(client)
    assert client.post("/desk/logout").status_code == 403
    assert client.post("/desk/logout", data={"csrf_token": "x" * 43}).status_code == 403
    assert client.post("/desk/logout", headers={"X-CSRF-Token": csrf[::-1]}).status_code == 403
    assert client.get("/desk/").status_code == 200  # still signed in
    token = client.cookies["lintas_session"]
    out = client.post("/desk/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/desk/login"
    cleared = cookies_set(out)["lintas_session"]
    assert "Max-Age=0" in cleared and "lintas_session=" in cleared
    assert "lintas_session" not in client.cookies
    assert client.get("/desk/").headers["location"] == "/desk/login?next=/desk/"
    client.cookies.set("lintas_session", token)  # a copy of the old cookie signs nobody in
    assert client.get("/desk/").status_code == 303
    assert session_rows(app_store) == []


def test_logout_takes_the_csrf_header_too(client: TestClient, app_store: Engine) -> None:
    sign_in(client)
    out = client.post("/desk/logout", headers={"X-CSRF-Token": desk_csrf(client)})
    assert out.status_code == 303 and session_rows(app_store) == []
    again = client.post("/desk/logout")  # no session: to the sign-in page
    assert again.status_code == 303 and again.headers["location"] == "/desk/login"


def test_sign_in_attempts_are_rate_limited(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINTAS_LOGIN_RATE_LIMIT", "3/minute")
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as client:
        for _ in range(3):
            assert sign_in(client, "ana", "wrong password").status_code == 401
        limited = sign_in(client, "ana", "wrong password")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "Too many" in limited.text and limited.headers["content-type"].startswith("text/html")
        assert sign_in(client, "budi", "wrong password").status_code == 401  # per username


def test_cookies_are_secure_on_https_or_when_configured(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(db_url, engine_name="fake")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert "Secure" in cookies_set(client.get("/desk/login"))["lintas_csrf"]
    monkeypatch.setenv("LINTAS_COOKIE_SECURE", "1")
    with TestClient(create_app(db_url, engine_name="fake"), follow_redirects=False) as client:
        engine = db.make_engine(db_url)
        try:
            accounts.create_user(engine, "ana", PASSWORD, "editor")
        finally:
            engine.dispose()
        form = {"username": "ana", "password": PASSWORD, "csrf_token": "t" * 43}
        client.cookies.set("lintas_csrf", "t" * 43)
        response = client.post("/desk/login", data=form)
        assert response.status_code == 303 and "Secure" in cookies_set(response)["lintas_session"]


def test_bad_desk_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for hours in ("soon", "0", "-1", "inf", "nan", "1e30"):
        monkeypatch.setenv("LINTAS_SESSION_HOURS", hours)
        with pytest.raises(InputError, match="LINTAS_SESSION_HOURS"):
            create_app(f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("LINTAS_SESSION_HOURS", "8")
    monkeypatch.setenv("LINTAS_LOGIN_RATE_LIMIT", "lots")
    with pytest.raises(InputError, match="LINTAS_LOGIN_RATE_LIMIT"):
        create_app(f"sqlite:///{tmp_path / 'x.sqlite'}")


# --- lintas users --------------------------------------------------------------------------------------------


def test_users_commands(tmp_path) -> None:
    database = ["--db", f"sqlite:///{tmp_path / 'users.sqlite'}"]
    runner = CliRunner()
    env = {"LINTAS_NEW_PASSWORD": PASSWORD}
    assert "no users" in runner.invoke(cli, ["users", "list", *database]).output
    added = runner.invoke(cli, ["users", "add", "Ana", "--display-name", "Ana Putri", *database], env=env)
    assert added.exit_code == 0, added.output
    assert "added user 'ana' (role editor)" in added.output
    prompted = runner.invoke(cli, ["users", "add", "budi", "--role", "admin", *database], input=f"{PASSWORD}\n" * 2)
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # hidden input
    listed = runner.invoke(cli, ["users", "list", *database]).output.splitlines()
    assert [line.split()[:2] for line in listed] == [["ana", "editor"], ["budi", "admin"]]
    assert "Ana Putri" in listed[0] and "active" in listed[0]
    assert runner.invoke(cli, ["users", "disable", "ana", *database]).exit_code == 0
    assert "disabled 20" in runner.invoke(cli, ["users", "list", *database]).output
    changed = runner.invoke(cli, ["users", "passwd", "budi", *database], env={"LINTAS_NEW_PASSWORD": "new passphrase"})
    assert changed.exit_code == 0 and "changed" in changed.output
    engine = db.make_engine(database[1])
    try:
        assert accounts.authenticate(engine, "ana", PASSWORD) is None  # disabled
        assert accounts.authenticate(engine, "budi", "new passphrase") is not None
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "password", "needle"),
    [
        (["users", "add", "ana"], PASSWORD, "taken"),
        (["users", "add", "bad name"], PASSWORD, "a username is"),
        (["users", "add", "budi"], "short", "8 to 1024"),
        (["users", "disable", "nobody"], PASSWORD, "no user 'nobody'"),
        (["users", "passwd", "nobody"], PASSWORD, "no user 'nobody'"),
        (["users", "passwd", "ana"], "short", "8 to 1024"),
    ],
)
def test_users_commands_refuse_bad_input_cleanly(
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    password: str,
    needle: str,
) -> None:
    database = ["--db", f"sqlite:///{tmp_path / 'users.sqlite'}"]
    monkeypatch.setenv("LINTAS_NEW_PASSWORD", PASSWORD)
    main(["users", "add", "ana", *database])
    capsys.readouterr()
    monkeypatch.setenv("LINTAS_NEW_PASSWORD", password)
    with pytest.raises(SystemExit) as exited:
        main([*args, *database])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and needle in err
