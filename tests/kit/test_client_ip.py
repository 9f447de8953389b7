"""The client's address: `X-Forwarded-For` is believed only from our own proxies."""

from __future__ import annotations

import ipaddress

import pytest

from carpulse.kit.client_ip import client_ip, parse_networks

TRUSTED = parse_networks(["10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48"])
PROXY = "10.0.0.1"
INNER_PROXY = "10.20.30.40"
CLIENT = "203.0.113.7"
ATTACKER_CLAIM = "198.51.100.66"


class TestUntrustedPeer:
    def test_peer_without_header_is_the_client(self) -> None:
        assert client_ip(CLIENT, None, TRUSTED) == CLIENT

    def test_header_from_an_untrusted_peer_is_ignored(self) -> None:
        assert client_ip(CLIENT, f"{ATTACKER_CLAIM}, {PROXY}", TRUSTED) == CLIENT

    def test_header_is_ignored_when_nothing_is_trusted(self) -> None:
        assert client_ip(PROXY, CLIENT, ()) == PROXY

    def test_missing_peer_is_unknown(self) -> None:
        assert client_ip(None, CLIENT, TRUSTED) == "unknown"

    def test_non_ip_peer_is_not_trusted(self) -> None:
        assert client_ip("testclient", CLIENT, TRUSTED) == "testclient"


class TestTrustedProxy:
    def test_trusted_peer_without_header_is_the_peer(self) -> None:
        assert client_ip(PROXY, None, TRUSTED) == PROXY

    def test_empty_header_leaves_the_peer(self) -> None:
        assert client_ip(PROXY, "", TRUSTED) == PROXY
        assert client_ip(PROXY, " , ,", TRUSTED) == PROXY

    def test_single_hop_behind_a_trusted_proxy(self) -> None:
        assert client_ip(PROXY, CLIENT, TRUSTED) == CLIENT

    def test_chain_of_trusted_proxies_is_walked(self) -> None:
        assert client_ip(PROXY, f"{CLIENT}, {INNER_PROXY}", TRUSTED) == CLIENT

    def test_single_address_entry_is_trusted(self) -> None:
        assert client_ip("127.0.0.1", CLIENT, TRUSTED) == CLIENT

    def test_address_next_to_a_single_address_entry_is_not_trusted(self) -> None:
        assert client_ip("127.0.0.2", CLIENT, TRUSTED) == "127.0.0.2"

    def test_when_every_hop_is_ours_the_leftmost_is_the_client(self) -> None:
        assert client_ip(PROXY, f"10.9.9.9, {INNER_PROXY}", TRUSTED) == "10.9.9.9"

    def test_whitespace_and_empty_entries_are_tolerated(self) -> None:
        assert client_ip(PROXY, f" ,{CLIENT} ,  , {INNER_PROXY},", TRUSTED) == CLIENT


class TestSpoofing:
    def test_spoofed_leftmost_entry_is_ignored(self) -> None:
        # The client sent `X-Forwarded-For: 198.51.100.66`; our proxy appended what it saw.
        assert client_ip(PROXY, f"{ATTACKER_CLAIM}, {CLIENT}", TRUSTED) == CLIENT

    def test_many_spoofed_entries_are_ignored(self) -> None:
        forwarded = f"1.1.1.1, 8.8.8.8, {ATTACKER_CLAIM}, {CLIENT}, {INNER_PROXY}"

        assert client_ip(PROXY, forwarded, TRUSTED) == CLIENT

    def test_spoofed_trusted_address_cannot_hide_the_client(self) -> None:
        # A client claiming to be one of our proxies is still the rightmost foreign hop.
        assert client_ip(PROXY, f"{INNER_PROXY}, {CLIENT}", TRUSTED) == CLIENT


class TestMalformedHops:
    def test_malformed_rightmost_hop_stops_at_the_peer(self) -> None:
        assert client_ip(PROXY, f"{CLIENT}, not-an-ip", TRUSTED) == PROXY

    def test_malformed_hop_stops_the_walk_before_spoofable_entries(self) -> None:
        forwarded = f"{ATTACKER_CLAIM}, garbage, {INNER_PROXY}"

        assert client_ip(PROXY, forwarded, TRUSTED) == INNER_PROXY

    @pytest.mark.parametrize("hop", ["203.0.113.7:4711", "[2001:db8::7]:443", "unknown", "_hidden", "999.1.1.1"])
    def test_odd_hop_formats_are_not_taken_as_the_client(self, hop: str) -> None:
        assert client_ip(PROXY, f"{ATTACKER_CLAIM}, {hop}", TRUSTED) == PROXY

    def test_injection_like_header_falls_back_to_the_peer(self) -> None:
        result = client_ip(PROXY, "<script>, 1.2.3.4; drop", TRUSTED)

        assert result == PROXY


class TestIpv6:
    def test_untrusted_ipv6_hop_is_the_client(self) -> None:
        assert client_ip("2001:db8:ffff::1", "2001:db8:1::7", TRUSTED) == "2001:db8:1::7"

    def test_trusted_ipv6_proxies_are_skipped(self) -> None:
        forwarded = "2001:db8:1::7, 2001:db8:ffff:2::9"

        assert client_ip("2001:db8:ffff::1", forwarded, TRUSTED) == "2001:db8:1::7"

    def test_untrusted_ipv6_peer_is_the_client(self) -> None:
        assert client_ip("2001:db8:1::7", CLIENT, TRUSTED) == "2001:db8:1::7"

    def test_mixed_families(self) -> None:
        assert client_ip(PROXY, f"2001:db8:1::7, {INNER_PROXY}", TRUSTED) == "2001:db8:1::7"
        assert client_ip("2001:db8:ffff::1", CLIENT, TRUSTED) == CLIENT


class TestParseNetworks:
    def test_addresses_and_cidrs_become_networks(self) -> None:
        assert parse_networks(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]) == (
            ipaddress.ip_network("10.0.0.0/8"),
            ipaddress.ip_network("192.0.2.1/32"),
            ipaddress.ip_network("2001:db8::/32"),
        )

    def test_blanks_are_skipped_and_entries_stripped(self) -> None:
        assert parse_networks(["", "  ", " 10.0.0.0/8 "]) == (ipaddress.ip_network("10.0.0.0/8"),)

    def test_host_bits_are_tolerated(self) -> None:
        assert parse_networks(["10.1.2.3/8"]) == (ipaddress.ip_network("10.0.0.0/8"),)

    def test_invalid_entry_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"proxy\.example"):
            parse_networks(["proxy.example"])
