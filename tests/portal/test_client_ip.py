"""portal/client_ip.py: the client's address, and what a client cannot do to it by
sending its own X-Forwarded-For."""

import pytest
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from portal.client_ip import client_ip

CLIENT = "203.0.113.7"  # the resident's or editor's real address
VICTIM = "198.51.100.20"  # an address an attacker would like to be taken for
PROXY = "10.0.0.2"  # our nginx, the app server's TCP peer


def request(remote=PROXY, xff=None, **meta):
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", REMOTE_ADDR=remote, **meta)


@pytest.fixture
def proxies(settings):
    def set_count(n):
        settings.TRUSTED_PROXY_COUNT = n

    return set_count


def test_without_trusted_proxies_the_peer_address_counts_and_xff_is_ignored(proxies):
    proxies(0)
    assert client_ip(request(CLIENT)) == CLIENT
    assert client_ip(request(CLIENT, xff=VICTIM)) == CLIENT
    assert client_ip(request(CLIENT, xff=f"{VICTIM}, 127.0.0.1")) == CLIENT


def test_one_proxy_the_rightmost_entry_is_what_it_saw(proxies):
    proxies(1)
    assert client_ip(request(xff=CLIENT)) == CLIENT
    # The client sent "X-Forwarded-For: <victim>"; nginx appended the real one.
    assert client_ip(request(xff=f"{VICTIM}, {CLIENT}")) == CLIENT
    assert client_ip(request(xff=f"{VICTIM},{VICTIM} , {CLIENT}")) == CLIENT


def test_two_proxies_the_second_entry_from_the_right(proxies):
    proxies(2)
    # CDN saw CLIENT and appended it; nginx appended the CDN's address.
    assert client_ip(request(xff=f"{CLIENT}, 192.0.2.9")) == CLIENT
    assert client_ip(request(xff=f"{VICTIM}, {CLIENT}, 192.0.2.9")) == CLIENT


def test_too_few_entries_falls_back_to_the_peer(proxies):
    proxies(2)
    assert client_ip(request(xff=CLIENT)) == PROXY  # did not pass the CDN
    assert client_ip(request()) == PROXY
    assert client_ip(request(xff="")) == PROXY
    assert client_ip(request(xff=" , ,")) == PROXY


def test_the_trusted_entry_must_be_an_address(proxies):
    proxies(1)
    for junk in ("unknown", "<script>", "1.2.3", "999.1.1.1", "x" * 500):
        assert client_ip(request(xff=f"{VICTIM}, {junk}")) == PROXY


def test_several_header_lines_count_as_one_list(proxies):
    # WSGI servers join repeated headers with commas; a forged first line stays left.
    proxies(1)
    assert client_ip(request(xff=f"{VICTIM},{CLIENT}")) == CLIENT


def test_addresses_are_normalised(proxies):
    proxies(1)
    assert client_ip(request(xff=f"{CLIENT}:51234")) == CLIENT
    assert client_ip(request(xff="[2001:DB8:0:0::1]:443")) == "2001:db8::1"
    assert client_ip(request(xff="2001:db8:0000::1")) == "2001:db8::1"
    assert client_ip(request(xff=f"::ffff:{CLIENT}")) == CLIENT
    proxies(0)
    assert client_ip(request(f"::ffff:{CLIENT}")) == CLIENT


def test_a_request_without_an_address(proxies):
    proxies(0)
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) == ""


addresses = st.ip_addresses(v=4).map(str) | st.ip_addresses(v=6).map(str)
# Anything a client can put in the header, commas included.
forged = st.lists(
    st.text(alphabet="0123456789abcdef.:, []x", max_size=40) | addresses, max_size=6
)


@given(
    count=st.integers(min_value=1, max_value=3),
    client=st.ip_addresses(v=4).map(str),
    forged_entries=forged,
    hops=st.lists(st.ip_addresses(v=4).map(str), min_size=3, max_size=3),
)
def test_nothing_the_client_sends_changes_the_address(
    count, client, forged_entries, hops
):
    """The client sends any X-Forwarded-For it likes; each of our ``count`` proxies
    appends the address it received the connection from. The result is always the
    address our outermost proxy saw."""
    from django.test import override_settings

    header = list(forged_entries)
    peer = client
    for proxy in hops[:count]:
        header.append(peer)
        peer = proxy
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_ip(request(peer, xff=", ".join(header))) == client
