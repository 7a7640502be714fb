"""One client_ip: the right-most address in X-Forwarded-For that is not a trusted proxy, so a
client cannot pick its own address to dodge the login rate limit or forge the audit log."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from caresheet.errors import BadInputError
from caresheet.web.client import TrustedProxies, parse_address
from helpers import LiveServer
from team.staff import PASSWORD, add_user, client_for, csrf_of, email_for, log_in

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    pytest.param("203.0.113.9", [], "203.0.113.9", id="no-proxy"),
    pytest.param("203.0.113.9", ["198.51.100.1"], "203.0.113.9", id="untrusted-peer-ignored"),
    pytest.param("10.0.0.2", ["198.51.100.1"], "198.51.100.1", id="one-proxy"),
    pytest.param("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1",
                 id="spoofed-leftmost-ignored"),
    pytest.param("10.0.0.2", ["6.6.6.6, 198.51.100.1, 192.0.2.7"], "198.51.100.1",
                 id="two-proxies"),
    pytest.param("10.0.0.2", ["6.6.6.6", "198.51.100.1"], "198.51.100.1",
                 id="two-headers-in-order"),
    pytest.param("10.0.0.2", ["10.0.0.3, 10.0.0.4"], "10.0.0.3", id="all-proxies-leftmost"),
    pytest.param("10.0.0.2", ["junk, 198.51.100.1:4711"], "198.51.100.1", id="with-port"),
    pytest.param("10.0.0.2", ["198.51.100.1, not-an-address"], "10.0.0.2",
                 id="garbage-stops-at-the-last-proxy"),
    pytest.param("2001:db8::1", ["[2001:db9::5]:443"], "2001:db9::5", id="ipv6"),
    pytest.param("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1", id="ipv4-mapped-peer"),
    pytest.param(None, ["198.51.100.1"], "unknown", id="no-peer"),
])
def test_the_client_is_the_rightmost_untrusted_address(
    peer: str | None, forwarded: list[str], client: str
) -> None:
    assert PROXIES.client(peer, forwarded) == client


def test_a_hop_count_trusts_that_many_hops_from_the_right() -> None:
    one = TrustedProxies.parse("1")
    assert one.client("10.9.9.9", ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1"
    assert TrustedProxies.parse("2").client("10.9.9.9", ["6.6.6.6, 198.51.100.1, 172.16.0.1"]
                                            ) == "198.51.100.1"
    assert one.client("10.9.9.9", []) == "10.9.9.9"


def test_nobody_is_trusted_unless_configured() -> None:
    assert TrustedProxies.from_env({}).client("127.0.0.1", ["6.6.6.6"]) == "127.0.0.1"


def test_the_old_setting_is_read_as_one_hop_never_the_leftmost() -> None:
    old = TrustedProxies.from_env({"CARESHEET_TRUST_PROXY": "true"})
    assert old.client("127.0.0.1", ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1"
    newer = TrustedProxies.from_env({"CARESHEET_TRUST_PROXY": "true",
                                     "CARESHEET_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert newer.client("127.0.0.1", ["198.51.100.1"]) == "127.0.0.1"


def test_a_bad_setting_names_the_entry() -> None:
    with pytest.raises(BadInputError, match=r"'proxy\.example' is not an address or network"):
        TrustedProxies.parse("10.0.0.1, proxy.example")


def test_parse_address_reads_header_forms() -> None:
    assert str(parse_address(' "192.0.2.1:80" ')) == "192.0.2.1"
    assert str(parse_address("[::1]:8080")) == "::1"
    assert parse_address("unknown") is None


# ---------------------------------------------------------------- over real HTTP


def _server(tmp_path: Path, trusted: str) -> LiveServer:
    live = LiveServer(f"sqlite:///{tmp_path}/c.db", workdir=tmp_path, init=False,
                      env={"CARESHEET_TRUSTED_PROXIES": trusted, "CARESHEET_WORKER": "off"})
    live.start()
    add_user(live.db_url, email_for("admin"), "admin", tmp_path)
    add_user(live.db_url, "target@clinic.example", "clinician", tmp_path)
    return live


def _wrong_password(client: httpx.Client, forwarded: str) -> int:
    form = client.get("/team/login")
    return client.post("/team/login", headers={"X-Forwarded-For": forwarded}, data={
        "email": "target@clinic.example", "password": "wrong password!",
        "csrf_token": csrf_of(form.text), "next": "/team",
    }).status_code


def _cookie_over_https(live: LiveServer) -> str:
    """The login form's cookie, for a request that says it came over https."""
    answer = httpx.get(f"{live.url}/team/login", headers={"X-Forwarded-Proto": "https"},
                       timeout=30)
    assert answer.status_code == 200
    return answer.headers["set-cookie"].lower()


def _failed_login_addresses(live: LiveServer) -> str:
    with client_for(live, "admin") as admin:
        return admin.get("/team/audit", params={"action": "login.failed"}).text


def test_spoofed_addresses_do_not_escape_the_login_rate_limit(tmp_path: Path) -> None:
    """The test client stands for the proxy (127.0.0.1), which appends the real client."""
    live = _server(tmp_path, "127.0.0.1")
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            codes = [_wrong_password(client, f"203.0.113.{n}, 198.51.100.23")
                     for n in range(1, 8)]
        assert codes == [400] * 5 + [429] * 2
        audit = _failed_login_addresses(live)
        assert audit.count("<td>198.51.100.23</td>") == 5
        assert "203.0.113." not in audit
        with httpx.Client(base_url=live.url, timeout=30) as elsewhere:  # another real client
            answer = log_in(elsewhere, "target@clinic.example", PASSWORD)
        assert answer.status_code == 303
        assert "; secure" in _cookie_over_https(live)  # the proxy says the client used https
    finally:
        live.stop()


def test_forwarded_for_is_ignored_from_an_untrusted_peer(tmp_path: Path) -> None:
    live = _server(tmp_path, "10.0.0.0/8")  # the test client's 127.0.0.1 is not a proxy
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            codes = [_wrong_password(client, f"198.51.100.{n}") for n in range(1, 8)]
        assert codes == [400] * 5 + [429] * 2
        audit = _failed_login_addresses(live)
        assert audit.count("<td>127.0.0.1</td>") == 5 and "198.51.100." not in audit
        assert "secure" not in _cookie_over_https(live)  # a client's claim, not a proxy's
    finally:
        live.stop()
