def test_health(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["database"] == "ok"


def test_home_requires_login(client):
    r = client.get("/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_home_for_social_worker(factory, login_as, client):
    u = factory.user("ana", roles=("social_worker",))
    login_as(u)
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
