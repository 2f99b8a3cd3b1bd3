"""Error answers explained: a list that 404s names the base URL setting to check, and an HTML page is
described by its title rather than quoted; a 2xx body that is not JSON is named as such."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from fleetlake.errors import ApiError, MalformedAnswerError
from fleetlake.http.responses import raise_for_api_status

PAGE = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"


class WebServer(BaseHTTPRequestHandler):
    """A web server, not the API: HTML on every path; 404, or 200 under /portal (a captive portal)."""

    def do_GET(self):  # the name http.server dispatches to
        self.send_response(200 if self.path.startswith("/portal") else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_404_names_the_setting_and_describes_the_page(web_server):
    hook = raise_for_api_status(
        "SkySQL", "services", credentials_hint="", base_url_setting="`base_url` in [sources.skysql_source]"
    )
    with pytest.raises(ApiError) as raised:
        requests.get(web_server + "/provisioning/v1/services", hooks={"response": [hook]}, timeout=10)
    assert str(raised.value) == (
        f"SkySQL services (GET {web_server}/provisioning/v1/services) answered 404 Not Found: an HTML page "
        "(404 Not Found). Check `base_url` in [sources.skysql_source] (a path or host typo answers 404; "
        "`fleetlake check` tries every server), or leave this resource out with --resources."
    )


def test_a_200_html_page_is_a_malformed_answer_naming_the_endpoint(web_server):
    hook = raise_for_api_status("Secoda", "tags", credentials_hint="")
    with pytest.raises(MalformedAnswerError) as raised:
        requests.get(web_server + "/portal/tag", hooks={"response": [hook]}, timeout=10)
    message = str(raised.value)
    assert message.startswith(f"Secoda tags (GET {web_server}/portal/tag) answered 200 with an HTML page, not the")
    assert "Check the base URL and any HTTPS_PROXY setting" in message
    assert message.endswith("This resource keeps its last complete load.")


def test_a_page_is_parsed_once_however_often_its_json_is_asked_for():
    """`parse_json_once` replaces `response.json` on the response (requests parses the body again on
    every call, and dlt's client and paginators each call it): if requests stops allowing that, or
    dlt stops reading pages through `response.json()`, this test says so."""
    from dlt.sources.helpers.rest_client.client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

    from fleetlake.emulators.secoda import DEFAULT_API_KEY, SecodaEmulator

    emulator = SecodaEmulator()
    hook = raise_for_api_status("Secoda", "tags", credentials_hint="")
    answers: list[requests.Response] = []
    with emulator.serve() as server:
        client = RESTClient(
            base_url=emulator.base_url(server.url), headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        )
        pages = list(
            client.paginate(
                "tag",
                paginator=SinglePagePaginator(),
                data_selector="results",
                hooks={"response": [hook, lambda response, *a, **k: answers.append(response)]},
            )
        )
    assert [len(page) for page in pages] == [15]  # the default workspace's tags
    (answer,) = answers
    assert answer.json() is answer.json()  # the one parse, not a new one per call
    assert "json" in vars(answer)


class Refusing(BaseHTTPRequestHandler):
    """TiDB Cloud's IAM and billing envelope: the reason in `error`, only the status text in `msgPrefix`."""

    def do_GET(self):  # the name http.server dispatches to
        body = (
            b'{"code": 400, "error": "pageSize must be between 1 and 100", "msgPrefix": "Bad Request", "status": 400}'
        )
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_refusal_shows_the_servers_reason_not_its_status_text():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1beta1/apiKeys"
    try:
        hook = raise_for_api_status("TiDB Cloud", "api_keys", credentials_hint="")
        with pytest.raises(ApiError) as raised:
            requests.get(url, hooks={"response": [hook]}, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert str(raised.value).startswith(
        f"TiDB Cloud api_keys (GET {url}) answered 400: pageSize must be between 1 and 100. The API refused"
    )
    assert "Bad Request" not in str(raised.value)
