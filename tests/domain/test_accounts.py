"""Accounts: the CLI, passwords, login and logout, sessions, rate limits, CSRF, cookies, audit."""

import csv
import io
import re

import pytest
from helpers import GOOD_PASSWORD, auth, csrf_token, log_in
from sqlalchemy import select

from timeline.store.db import db
from timeline.store.models import AuditEntry, User


def make_user(runner, name, role="editor", password=GOOD_PASSWORD):
    return runner.invoke(
        args=["users", "create", name, "--role", role, "--password-stdin"], input=password + "\n"
    )


def test_users_create_from_stdin(app, runner):
    result = make_user(runner, "alice", "admin")
    assert result.exit_code == 0, result.output
    assert "created admin alice" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        assert user.role == "admin"
        assert user.password_hash.startswith("$argon2")
        assert GOOD_PASSWORD not in user.password_hash


def test_users_create_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "bob", "--role", "editor"], input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "created editor bob" in result.output


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short-1A", "at least 12"), ("password1234", "commonly used"), ("aaaaaaaaaaaaaaaa", "too easy"),
     ("alice-alice-alice", "too easy")],
)  # fmt: skip
def test_weak_passwords_are_refused(app, runner, password, reason):
    result = make_user(runner, "alice", password=password)
    assert result.exit_code == 1
    assert reason in result.output
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_duplicate_and_bad_usernames(runner):
    assert make_user(runner, "alice").exit_code == 0
    assert "already exists" in make_user(runner, "alice").output
    assert make_user(runner, "has space").exit_code == 1
    result = runner.invoke(args=["users", "create", "x", "--role", "root", "--password-stdin"], input="p\n")
    assert result.exit_code == 2  # not a role


def test_there_is_no_default_account(app, runner):
    with app.app_context():
        assert db.session.scalar(select(User)) is None
    assert runner.invoke(args=["users", "list"]).output == ""


def test_token_create_use_list_revoke(app, client, runner):
    make_user(runner, "alice")
    result = runner.invoke(args=["tokens", "create", "alice", "--name", "newsroom script"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tlm_") and len(token) > 40
    assert client.get("/api/changes", headers=auth(token)).status_code == 200
    listing = runner.invoke(args=["tokens", "list", "alice"]).output
    assert "newsroom script" in listing and "active" in listing and "never used" not in listing
    assert token not in listing  # shown once, stored hashed
    token_id = listing.split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    response = client.get("/api/changes", headers=auth(token))
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert "revoked" in runner.invoke(args=["tokens", "list", "alice"]).output


def test_token_of_a_deactivated_user_is_refused(app, client, users):
    with app.app_context():
        user = db.session.get(User, users["editor"]["id"])
        from datetime import UTC, datetime

        user.deactivated_at = datetime.now(UTC)
        db.session.commit()
    assert client.get("/api/events", headers=auth(users["editor"]["token"])).status_code == 401


def test_login_logout_and_a_new_session_at_login(client, users):
    client.get("/login")
    before = client.get_cookie("session").value
    response = log_in(client, "editor1", GOOD_PASSWORD)
    assert response.status_code == 302
    after = client.get_cookie("session")
    assert after.value != before
    assert client.get("/edit/").status_code == 200
    # The pre-login cookie does not carry the login.
    other = client.application.test_client()
    other.set_cookie("session", before)
    assert other.get("/edit/").status_code == 302
    token = csrf_token(client, "/edit/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/edit/").status_code == 302  # back to the login page


def test_session_cookie_flags(app, users):
    plain = app.test_client()
    log_in(plain, "editor1", GOOD_PASSWORD)
    cookie = plain.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure
    secure = app.test_client()
    secure.get("/login", base_url="https://localhost")
    response = secure.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # over HTTPS the CSRF check also wants it
        data={"username": "editor1", "password": GOOD_PASSWORD, "csrf_token": csrf_token_https(secure)},
    )
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def csrf_token_https(client):
    html = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_same_answer_for_unknown_user_and_wrong_password(client, users):
    unknown = log_in(client, "nobody", GOOD_PASSWORD)
    wrong = log_in(client, "editor1", "wrong password entirely")
    assert unknown.status_code == wrong.status_code == 401
    assert "Invalid username or password." in unknown.get_data(as_text=True)

    def page(response):
        html = response.get_data(as_text=True).replace("nobody", "editor1")
        return re.sub(r'name="csrf_token" value="[^"]+"', "", html)

    assert page(unknown) == page(wrong)


def test_repeated_failed_logins_are_rate_limited(client, users):
    for _ in range(10):
        assert log_in(client, "editor1", "wrong password entirely").status_code == 401
    limited = log_in(client, "editor1", GOOD_PASSWORD)  # even the right password, for now
    assert limited.status_code == 429
    assert "Too many failed logins" in limited.get_data(as_text=True)
    assert log_in(client, "admin1", GOOD_PASSWORD).status_code == 429  # same address


def test_login_needs_csrf(client, users):
    client.get("/login")
    response = client.post("/login", data={"username": "editor1", "password": GOOD_PASSWORD})
    assert response.status_code == 400
    assert client.get("/edit/").status_code == 302


def test_open_redirect_after_login_is_refused(client, users):
    def login_then(target):
        data = {
            "username": "editor1",
            "password": GOOD_PASSWORD,
            "csrf_token": csrf_token(client),
            "next": target,
        }
        return client.post("/login", data=data).headers["Location"]

    assert login_then("https://evil.example/") == "/edit/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/edit/")})
    assert login_then("//evil.example/") == "/edit/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/edit/")})
    assert login_then("/edit/trash") == "/edit/trash"


def test_audit_log_records_logins_and_exports_csv_safely(app, client, users):
    log_in(client, "=cmd|' /C calc'!A0", "whatever password")  # a formula as a username
    log_in(client, "admin1", GOOD_PASSWORD)
    assert client.get("/admin/audit").status_code == 200
    response = client.get("/admin/audit.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "username", "action", "target", "detail", "remote_addr"]
    actions = [r[2] for r in rows[1:]]
    assert "login_failed" in actions and "login" in actions
    failed = next(r for r in rows if r[2] == "login_failed")
    assert failed[3].startswith("'=")  # defused for spreadsheets
    assert failed[5] == "127.0.0.1"
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login")).username == "admin1"


def test_deactivating_a_user_ends_their_session(app, client, users):
    log_in(client, "editor1", GOOD_PASSWORD)
    assert client.get("/edit/").status_code == 200
    admin = app.test_client()
    log_in(admin, "admin1", GOOD_PASSWORD)
    token = csrf_token(admin, "/admin/users")
    assert (
        admin.post(
            f"/admin/users/{users['editor']['id']}", data={"action": "deactivate", "csrf_token": token}
        ).status_code
        == 302
    )
    assert client.get("/edit/").status_code == 302


def test_admin_creates_users_through_the_form_with_the_password_policy(app, client, users):
    log_in(client, "admin1", GOOD_PASSWORD)
    token = csrf_token(client, "/admin/users")
    weak = client.post("/admin/users", data={"username": "new", "role": "editor", "password": "123456789012",
                                             "csrf_token": token})  # fmt: skip
    assert weak.status_code == 422
    assert "commonly used" in weak.get_data(as_text=True) or "too easy" in weak.get_data(as_text=True)
    ok = client.post("/admin/users", data={"username": "new", "role": "editor", "password": GOOD_PASSWORD,
                                           "csrf_token": token})  # fmt: skip
    assert ok.status_code == 302
    assert log_in(app.test_client(), "new", GOOD_PASSWORD).status_code == 302


def test_production_hashing_is_argon2id_with_its_default_costs(tmp_path):
    from timeline import create_app
    from timeline.domain.accounts import hash_password

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": "x"})
    with app.app_context():
        assert hash_password(GOOD_PASSWORD).startswith("$argon2id$v=19$m=65536,t=3")


@pytest.mark.parametrize("storage", ["", "memory://"])
def test_guessing_from_elsewhere_does_not_lock_an_editor_out_of_their_usual_address(
    fresh_database, app_factory, users_on, storage
):
    app = app_factory(fresh_database("lockout"), RATELIMIT_STORAGE_URL=storage)
    users_on(app)
    client = app.test_client()

    def attempt(address, password):
        client.environ_base["REMOTE_ADDR"] = address
        response = log_in(client, "editor1", password)
        if response.status_code == 302:
            client.post("/logout", data={"csrf_token": csrf_token(client, "/edit/")})
        return response.status_code

    assert attempt("10.0.0.1", GOOD_PASSWORD) == 302  # the editor's office
    for i in range(10):  # someone else, spread over addresses, guesses
        assert attempt(f"10.0.1.{i}", "wrong password entirely") == 401
    assert attempt("10.0.0.1", GOOD_PASSWORD) == 302  # the office still gets in
    assert attempt("10.0.2.1", GOOD_PASSWORD) == 429  # a new address is held back for now
