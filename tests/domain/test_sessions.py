"""Sessions that end: logout, log out everywhere, an admin's word, and idle and absolute lifetimes,
for every copy of the cookie and across processes (each test client is another browser)."""

from datetime import UTC, datetime, timedelta

from helpers import GOOD_PASSWORD, csrf_token, log_in
from sqlalchemy import select, update

from timeline.store.db import db
from timeline.store.models import UserSession


def copy_of(client, app):
    """Another browser holding a copy of ``client``'s session cookie (stolen, or a second tab)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in(client):
    return client.get("/edit/").status_code == 200


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, client, users):
    log_in(client, "editor1", GOOD_PASSWORD)
    thief = copy_of(client, app)
    assert signed_in(thief)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/edit/")})
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/api/events?limit=1").status_code == 200  # an anonymous reader again
    with app.app_context():
        [row] = db.session.scalars(select(UserSession)).all()
        assert row.ended_at is not None


def test_logging_out_one_session_leaves_the_users_other_sessions_open(app, users):
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, "editor1", GOOD_PASSWORD)
    log_in(phone, "editor1", GOOD_PASSWORD)
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/edit/")})
    assert not signed_in(laptop) and signed_in(phone)


def test_log_out_everywhere_ends_every_session_of_the_user_only(app, users):
    laptop, phone, admin = app.test_client(), app.test_client(), app.test_client()
    log_in(laptop, "editor1", GOOD_PASSWORD)
    log_in(phone, "editor1", GOOD_PASSWORD)
    log_in(admin, "admin1", GOOD_PASSWORD)
    response = phone.post("/logout/everywhere", data={"csrf_token": csrf_token(phone, "/edit/")})
    assert response.status_code == 302
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(admin)
    assert log_in(laptop, "editor1", GOOD_PASSWORD).status_code == 302 and signed_in(laptop)


def test_an_admin_ends_another_users_sessions(app, users):
    editor, admin = app.test_client(), app.test_client()
    log_in(editor, "editor1", GOOD_PASSWORD)
    log_in(admin, "admin1", GOOD_PASSWORD)
    token = csrf_token(admin, "/admin/users")
    done = admin.post(
        f"/admin/users/{users['editor']['id']}", data={"action": "end_sessions", "csrf_token": token}
    )
    assert done.status_code == 302
    assert not signed_in(editor) and signed_in(admin)


def age_sessions(app, **ago):
    with app.app_context():
        then = datetime.now(UTC) - timedelta(**ago)
        db.session.execute(update(UserSession).values(**{k: then for k in ("created_at", "last_seen_at")}))
        db.session.commit()


def test_an_idle_session_ends(app, client, users):
    log_in(client, "editor1", GOOD_PASSWORD)
    app.config["SESSION_IDLE_MINUTES"] = 30
    age_sessions(app, minutes=20)
    assert signed_in(client)  # used within the idle time: open, and its use written down
    with app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at))
        assert datetime.now(UTC) - seen.replace(tzinfo=UTC) < timedelta(minutes=1)
    age_sessions(app, minutes=31)
    assert not signed_in(client)


def test_a_session_ends_at_its_absolute_lifetime_even_when_in_use(app, client, users):
    log_in(client, "editor1", GOOD_PASSWORD)
    app.config["SESSION_MAX_HOURS"] = 2
    with app.app_context():
        db.session.execute(
            update(UserSession).values(created_at=datetime.now(UTC) - timedelta(hours=2, minutes=1))
        )
        db.session.commit()
    assert not signed_in(client)


def test_a_cookie_for_a_session_that_never_existed_is_refused(app, client, users):
    log_in(client, "editor1", GOOD_PASSWORD)
    with app.app_context():
        db.session.execute(UserSession.__table__.delete())
        db.session.commit()
    assert not signed_in(client)


def test_a_password_change_ends_every_session_and_the_new_password_works(app, client, users, runner):
    log_in(client, "editor1", GOOD_PASSWORD)
    new = GOOD_PASSWORD + " and more"
    weak = runner.invoke(args=["users", "set-password", "editor1", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "not changed" in weak.output
    assert signed_in(client)
    result = runner.invoke(args=["users", "set-password", "editor1", "--password-stdin"], input=new + "\n")
    assert result.exit_code == 0 and "1 open sessions ended" in result.output
    assert not signed_in(client)
    assert log_in(app.test_client(), "editor1", GOOD_PASSWORD).status_code == 401
    assert log_in(client, "editor1", new).status_code == 302
