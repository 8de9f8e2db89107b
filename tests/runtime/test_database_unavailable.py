"""A database that went away (restart, network) answers 503 with Retry-After, never a bare 500."""
from sqlalchemy.exc import OperationalError

from tests.runtime.web_support import make_app


def _app(tmp_path):
    app = make_app(tmp_path)

    def lost():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    app.add_url_rule("/api/v1/_lost", "lost_api", lost)
    app.add_url_rule("/_lost", "lost_page", lost)
    return app


def test_the_api_says_503_in_the_callers_language(tmp_path):
    client = _app(tmp_path).test_client()
    res = client.get("/api/v1/_lost", headers={"Accept-Language": "en"})
    assert res.status_code == 503 and res.headers["Retry-After"] == "5"
    assert res.json["error"]["code"] == "database_unavailable" and "temporarily unavailable" in res.json["error"]["message"]
    zh = client.get("/api/v1/_lost", headers={"Accept-Language": "zh-CN"})
    assert "数据库暂时不可用" in zh.json["error"]["message"]


def test_a_page_says_503_as_text(tmp_path):
    res = _app(tmp_path).test_client().get("/_lost", headers={"Accept-Language": "en"})
    assert res.status_code == 503 and "temporarily unavailable" in res.get_data(as_text=True)
