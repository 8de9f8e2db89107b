"""A JSON body nested deeper than the parser follows is a 400 on every JSON route, never a 500."""
from tests.runtime.web_support import make_app, sign_in

DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_json_bodies_are_refused_not_crashed(tmp_path):
    app = make_app(tmp_path, QMS_DEMO="0", WTF_CSRF_ENABLED=False)
    client = app.test_client()
    sign_in(client)
    for url in ("/api/v1/expressions/check", "/designer/api/apps/none/forms/none/preview/compute",
                "/designer/apps/none/forms/none/preview", "/f/none/new"):
        response = client.post(url, data=DEEP, content_type="application/json")
        assert response.status_code < 500, url
