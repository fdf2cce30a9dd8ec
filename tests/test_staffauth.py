"""Tests for mailbot.staffauth: Authentication-Results, alignment, trusted relays, forgeries."""

from __future__ import annotations

import email
import email.policy
import random
import textwrap
from email.message import Message

import pytest

from mailbot.staffauth import (
    AuthVerdict,
    aligned,
    check_sender,
    normalise_domain,
    relay_networks,
    sender_domain,
)

OURS = ("mx.ecarnet.fr",)
STAFF = "marie@ecarnet.fr"

TAIL = """\
From: Marie Durand <marie@ecarnet.fr>
To: support@ecarnet.fr
Subject: Re: [#ECN-4F7K2Q] Synchronisation
Date: Tue, 14 Jan 2025 09:12:00 +0100
Message-ID: <a1b2c3@smtp.ecarnet.fr>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

#statut en cours
Bonjour, je regarde.
"""

# Postfix with OpenDMARC, OpenDKIM and policyd-spf: one header each, all above
# Postfix's own Received header.
POSTFIX = """\
Return-Path: <marie@ecarnet.fr>
Delivered-To: support@ecarnet.fr
Authentication-Results: mx.ecarnet.fr; dmarc=pass (p=reject dis=none) header.from=ecarnet.fr
Authentication-Results: mx.ecarnet.fr;
\tdkim=pass (2048-bit key; unprotected) header.d=ecarnet.fr header.i=@ecarnet.fr
\theader.a=rsa-sha256 header.s=mail2024 header.b="Xk3pQ9aZ";
\tdkim-atps=neutral
Authentication-Results: mx.ecarnet.fr; spf=pass (sender SPF authorized)
\tsmtp.mailfrom=ecarnet.fr (client-ip=192.0.2.25; helo=smtp.ecarnet.fr;
\tenvelope-from=marie@ecarnet.fr; receiver=support@ecarnet.fr)
Received: from smtp.ecarnet.fr (smtp.ecarnet.fr [192.0.2.25])
\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)
\t(No client certificate requested)
\tby mx.ecarnet.fr (Postfix) with ESMTPS id 4XyZ1k2LmNz9
\tfor <support@ecarnet.fr>; Tue, 14 Jan 2025 09:12:03 +0100 (CET)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=ecarnet.fr; s=mail2024;
\tt=1736842320; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; h=From:To:Subject;
\tb=Xk3pQ9aZ
"""

# Google Workspace: Google's Received on top, its results below it, ARC above.
GMAIL = """\
Delivered-To: support@ecarnet.fr
Received: by 2002:a05:7000:1f0b:b0:5d1:aa2c:9f1e with SMTP id r11csp1234567mag;
        Tue, 14 Jan 2025 00:12:04 -0800 (PST)
ARC-Seal: i=1; a=rsa-sha256; t=1736842324; cv=none; d=google.com; s=arc-20240605;
        b=QmFzZTY0
ARC-Authentication-Results: i=1; mx.google.com;
       dkim=pass header.i=@ecarnet.fr header.s=google header.b=AbCdEf12;
       spf=pass smtp.mailfrom=marie@ecarnet.fr
Return-Path: <marie@ecarnet.fr>
Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])
        by mx.google.com with SMTPS id a640c23a62f3a-ab2c1e0a5b2sor12345678.7.2025.01.14
        for <support@ecarnet.fr>
        (Google Transport Security);
        Tue, 14 Jan 2025 00:12:04 -0800 (PST)
Received-SPF: pass (google.com: domain of marie@ecarnet.fr designates 209.85.220.41 as
 permitted sender) client-ip=209.85.220.41;
Authentication-Results: mx.google.com;
       dkim=pass header.i=@ecarnet.fr header.s=google header.b=AbCdEf12;
       spf=pass (google.com: domain of marie@ecarnet.fr designates 209.85.220.41 as permitted
 sender) smtp.mailfrom=marie@ecarnet.fr;
       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=ecarnet.fr
"""

# Microsoft 365 as the receiving side: its header carries no authserv-id.
M365 = """\
Received: from AM9PR03MB7020.eurprd03.prod.outlook.com (2603:10a6:20b:2d4::9) by
 PA4PR03MB7133.eurprd03.prod.outlook.com with HTTPS; Tue, 14 Jan 2025 08:12:05 +0000
Authentication-Results: spf=pass (sender IP is 192.0.2.25)
 smtp.mailfrom=ecarnet.fr; dkim=pass (signature was verified)
 header.d=ecarnet.fr;dmarc=pass action=none header.from=ecarnet.fr;compauth=pass
 reason=100
Received-SPF: Pass (protection.outlook.com: domain of ecarnet.fr designates
 192.0.2.25 as permitted sender) receiver=protection.outlook.com;
 client-ip=192.0.2.25; helo=smtp.ecarnet.fr; pr=C
"""

# Dovecot LMTP delivery on top of Rspamd's results and Postfix's Received.
DOVECOT_RSPAMD = """\
Return-Path: <marie@ecarnet.fr>
Delivered-To: support@ecarnet.fr
Received: from mx.ecarnet.fr
\tby imap.ecarnet.fr with LMTP
\tid kLq3Fh0ahmdVKAAAs2K2Zw
\t(envelope-from <marie@ecarnet.fr>)
\tfor <support@ecarnet.fr>; Tue, 14 Jan 2025 09:12:05 +0100
Authentication-Results: mx.ecarnet.fr;
\tdkim=pass header.d=ecarnet.fr header.s=dkim header.b=FE8LWa0T;
\tspf=pass (mx.ecarnet.fr: domain of marie@ecarnet.fr designates 192.0.2.25 as permitted
 sender) smtp.mailfrom=marie@ecarnet.fr;
\tdmarc=pass (policy=reject) header.from=ecarnet.fr
Received: from smtp.ecarnet.fr (smtp.ecarnet.fr [192.0.2.25])
\tby mx.ecarnet.fr (Postfix) with ESMTPS id 4YXn2k0d9Qz3
\tfor <support@ecarnet.fr>; Tue, 14 Jan 2025 09:12:04 +0100 (CET)
"""


def message(headers: str, tail: str = TAIL, crlf: bool = False) -> Message:
    """A parsed message: *headers* (top first) above the ordinary ones."""
    text = textwrap.dedent(headers) + tail
    raw = text.replace("\n", "\r\n") if crlf else text
    return email.message_from_bytes(raw.encode(), policy=email.policy.default)


def results(value: str, received: str = "from smtp.ecarnet.fr (smtp.ecarnet.fr [192.0.2.25]) "
            "by mx.ecarnet.fr (Postfix) with ESMTPS id 4Q; Tue, 14 Jan 2025 09:12:04 +0100"
            ) -> Message:
    """A Postfix-style message with one results header of ours above the Received."""
    return message(f"Authentication-Results: {value}\nReceived: {received}\n")


def check(msg: Message, sender: str = STAFF, ids: tuple[str, ...] = OURS,
          relays: tuple[str, ...] = ()) -> AuthVerdict:
    return check_sender(msg, sender, ids, relays)


# --- realistic header sets -------------------------------------------------

def test_postfix_opendkim_opendmarc_policyd_spf_passes_on_dkim():
    verdict = check(message(POSTFIX))
    assert verdict == AuthVerdict(
        True, "dkim=pass header.d=ecarnet.fr aligned with ecarnet.fr (mx.ecarnet.fr)")


@pytest.mark.parametrize("keep, expected", [
    (0, "dmarc=pass header.from=ecarnet.fr aligned with ecarnet.fr (mx.ecarnet.fr)"),
    (2, "spf=pass smtp.mailfrom=ecarnet.fr aligned with ecarnet.fr (mx.ecarnet.fr)"),
])
def test_each_postfix_milter_header_is_enough_on_its_own(keep, expected):
    blocks = POSTFIX.split("Authentication-Results: ")
    headers = blocks[0] + "Authentication-Results: " + blocks[keep + 1]
    if "Received:" not in headers:
        headers += "Received:" + POSTFIX.split("Received:", 1)[1]
    assert check(message(headers)) == AuthVerdict(True, expected)


def test_gmail_layout_results_below_its_received_and_dkim_by_header_i():
    verdict = check(message(GMAIL), ids=("mx.google.com",))
    assert verdict.authenticated
    assert verdict.reason == ("dkim=pass header.i=ecarnet.fr aligned with ecarnet.fr "
                              "(mx.google.com)")


def test_arc_authentication_results_are_not_authentication_results():
    only_arc = GMAIL.split("Authentication-Results: mx.google.com;")[0]
    verdict = check(message(only_arc), ids=("mx.google.com",))
    assert not verdict.authenticated
    assert verdict.reason == "no Authentication-Results from mx.google.com"


def test_microsoft_365_header_without_authserv_id_cannot_be_ours():
    verdict = check(message(M365))
    assert verdict == AuthVerdict(
        False, "no Authentication-Results from mx.ecarnet.fr (ignored: one without authserv-id)")


def test_dovecot_lmtp_on_top_of_rspamd_results():
    assert check(message(DOVECOT_RSPAMD)) == AuthVerdict(
        True, "dkim=pass header.d=ecarnet.fr aligned with ecarnet.fr (mx.ecarnet.fr)")


def test_rspamd_none_result():
    verdict = check(results("mx.ecarnet.fr; none"))
    assert verdict == AuthVerdict(
        False, "no dkim, spf or dmarc result in Authentication-Results from mx.ecarnet.fr")


def test_exim_style_results_with_authserv_version():
    value = ("mx.ecarnet.fr 1;\n\tiprev=pass (smtp.ecarnet.fr) smtp.remote-ip=192.0.2.25;\n"
             "\tspf=pass smtp.mailfrom=ecarnet.fr;\n\tdkim=pass header.d=ecarnet.fr "
             "header.s=s1 header.a=rsa-sha256;\n\tdmarc=pass header.from=ecarnet.fr;\n\tarc=none")
    assert check(results(value)).reason.startswith("dkim=pass header.d=ecarnet.fr aligned")


# --- which headers are believed -------------------------------------------

def test_forged_pass_below_our_received_is_ignored():
    headers = ("Authentication-Results: mx.ecarnet.fr; dkim=fail (bad signature) "
               "header.d=ecarnet.fr; spf=softfail smtp.mailfrom=ecarnet.fr\n"
               "Received: from evil.example (evil.example [203.0.113.5]) by mx.ecarnet.fr "
               "(Postfix) with ESMTP id 4Q; Tue, 14 Jan 2025 09:12:04 +0100\n"
               "Authentication-Results: mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr; "
               "spf=pass smtp.mailfrom=ecarnet.fr\n")
    verdict = check(message(headers))
    assert verdict == AuthVerdict(False, "dkim=fail for ecarnet.fr (mx.ecarnet.fr); "
                                         "spf=softfail for ecarnet.fr (mx.ecarnet.fr)")


def test_forged_pass_below_the_first_of_ours_in_gmail_layout_is_ignored():
    ours = GMAIL.replace("dkim=pass header.i=@ecarnet.fr header.s=google header.b=AbCdEf12;\n"
                         "       spf=pass (google", "dkim=none;\n       spf=fail (google")
    ours = ours.replace("dmarc=pass", "dmarc=fail")
    forged = "Authentication-Results: mx.google.com; dkim=pass header.d=ecarnet.fr\n"
    verdict = check(message(ours + forged), ids=("mx.google.com",))
    assert not verdict.authenticated
    assert "dkim=none (mx.google.com)" in verdict.reason
    assert "spf=fail for ecarnet.fr (mx.google.com)" in verdict.reason


def test_forged_pass_below_lmtp_and_rspamd_is_ignored():
    forged = DOVECOT_RSPAMD.replace("dkim=pass", "dkim=fail").replace(
        "spf=pass", "spf=neutral").replace("dmarc=pass", "dmarc=fail")
    forged += "Authentication-Results: mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr\n"
    assert not check(message(forged)).authenticated


def test_foreign_authserv_id_is_ignored_and_named():
    headers = ("Received: from evil.example (evil.example [203.0.113.5]) by mx.ecarnet.fr "
               "(Postfix) with ESMTP id 4Q; Tue, 14 Jan 2025 09:12:04 +0100\n"
               "Authentication-Results: mx.evil.example; dkim=pass header.d=ecarnet.fr\n")
    verdict = check(message(headers))
    assert verdict == AuthVerdict(
        False, "no Authentication-Results from mx.ecarnet.fr (ignored: mx.evil.example)")


def test_foreign_header_beside_ours_does_not_count():
    headers = ("Authentication-Results: mx.evil.example; dkim=pass header.d=ecarnet.fr\n"
               "Authentication-Results: mx.ecarnet.fr; dkim=fail header.d=ecarnet.fr\n")
    assert check(message(headers)) == AuthVerdict(False, "dkim=fail for ecarnet.fr "
                                                         "(mx.ecarnet.fr)")


def test_no_results_at_all_and_no_authserv_id_configured():
    assert check(message("")).reason == "no Authentication-Results from mx.ecarnet.fr"
    verdict = check(message(POSTFIX), ids=())
    assert verdict == AuthVerdict(False, "no authserv-id configured for our receiving server")


def test_several_authserv_ids():
    verdict = check(message(GMAIL), ids=("mx.ecarnet.fr", "mx.google.com"))
    assert verdict.authenticated
    assert check(message("")).reason.startswith("no Authentication-Results from mx.ecarnet.fr")


# --- results and alignment -------------------------------------------------

@pytest.mark.parametrize("value", [
    "mx.ecarnet.fr; dkim=pass header.d=mail.ecarnet.fr",
    "mx.ecarnet.fr; dkim=pass header.i=marie@lycee.ecarnet.fr",
    "mx.ecarnet.fr; spf=pass smtp.mailfrom=bounces@news.ecarnet.fr",
    "mx.ecarnet.fr; spf=pass smtp.mailfrom=\"marie\"@ecarnet.fr",
    "mx.ecarnet.fr; dkim=fail header.d=esp.example; dkim=pass header.d=ecarnet.fr",
    "MX.ECARNET.FR; DKIM=PASS HEADER.D=ECARNET.FR",
    "mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr;",
    "mx.ecarnet.fr (amavis); dkim = pass (good) reason=\"ok\" header.d = ecarnet.fr",
])
def test_aligned_passes(value):
    assert check(results(value)).authenticated, value


@pytest.mark.parametrize("value, reason", [
    ("mx.ecarnet.fr; dkim=pass header.d=evil.example",
     "dkim=pass for evil.example, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr.evil.example",
     "dkim=pass for ecarnet.fr.evil.example, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dkim=pass header.d=ecarnet-fr.com",
     "dkim=pass for ecarnet-fr.com, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr header.d=evil.example",
     "dkim=pass for ecarnet.fr, evil.example, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dkim=fail (bad signature) header.d=ecarnet.fr",
     "dkim=fail for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dkim=pass header.s=x", "dkim=pass without header.d (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=fail smtp.mailfrom=marie@ecarnet.fr",
     "spf=fail for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=softfail smtp.mailfrom=ecarnet.fr",
     "spf=softfail for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=neutral smtp.mailfrom=ecarnet.fr",
     "spf=neutral for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=none smtp.mailfrom=ecarnet.fr",
     "spf=none for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=temperror smtp.mailfrom=ecarnet.fr",
     "spf=temperror for ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=pass smtp.mailfrom=bounce.sendgrid.net",
     "spf=pass for bounce.sendgrid.net, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; spf=pass smtp.helo=smtp.ecarnet.fr",
     "spf=pass without smtp.mailfrom (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; dmarc=pass header.from=mail.ecarnet.fr",
     "dmarc=pass for mail.ecarnet.fr, not aligned with ecarnet.fr (mx.ecarnet.fr)"),
    ("mx.ecarnet.fr; auth=pass smtp.auth=marie@ecarnet.fr; iprev=pass policy.iprev=192.0.2.25",
     "no dkim, spf or dmarc result in Authentication-Results from mx.ecarnet.fr"),
])
def test_not_authenticated(value, reason):
    assert check(results(value)) == AuthVerdict(False, reason)


def test_public_suffix_co_uk():
    ok = results("mx.ecarnet.fr; dkim=pass header.d=mail.stmarys.co.uk")
    assert check(ok, sender="head@stmarys.co.uk").authenticated
    other = results("mx.ecarnet.fr; dkim=pass header.d=stjohns.co.uk")
    assert not check(other, sender="head@stmarys.co.uk").authenticated
    suffix = results("mx.ecarnet.fr; dkim=pass header.d=co.uk")
    assert not check(suffix, sender="head@co.uk").authenticated


def test_internationalised_domain_matches_its_punycode():
    msg = results("mx.ecarnet.fr; dkim=pass header.d=xn--carnet-9ua.fr")
    assert check(msg, sender="marie@écarnet.fr").authenticated


@pytest.mark.parametrize("a, b, expected", [
    ("mail.ecarnet.fr", "ecarnet.fr", True),
    ("ecarnet.fr", "ECARNET.FR.", True),
    ("a.b.ecarnet.fr", "c.ecarnet.fr", True),
    ("ecarnet.fr.evil.example", "ecarnet.fr", False),
    ("ecarnet-fr.com", "ecarnet.fr", False),
    ("stmarys.co.uk", "stjohns.co.uk", False),
    ("mail.stmarys.co.uk", "stmarys.co.uk", True),
    ("co.uk", "co.uk", False),
    ("alice.github.io", "bob.github.io", False),  # private section of the list
    ("xn--carnet-9ua.fr", "écarnet.fr", True),
    ("192.0.2.1", "0.2.1", False),
    ("", "", False),
    ("a..b", "a..b", False),
])
def test_alignment(a, b, expected):
    assert aligned(a, b) is expected


@pytest.mark.parametrize("address, domain", [
    ("marie@ecarnet.fr", "ecarnet.fr"),
    ("Marie Durand <Marie@ECARNET.FR>", "ecarnet.fr"),
    ("marie@ecarnet.fr.", "ecarnet.fr"),
    ("marie", None),
    ("", None),
    ("@ecarnet.fr", None),
    ("marie@", None),
    ("marie@[192.0.2.1]", None),
    ("marie@localhost", None),
    ("marie@-bad-.fr", None),
])
def test_sender_domain(address, domain):
    assert sender_domain(address) == domain


def test_missing_from_domain_is_refused_with_a_reason():
    assert check(message(POSTFIX), sender="marie") == AuthVerdict(
        False, "no usable domain in sender address 'marie'")
    assert not check(message(POSTFIX), sender="").authenticated


def test_normalise_domain_rejects_ip_literals_and_garbage():
    assert normalise_domain("ECARNET.fr") == "ecarnet.fr"
    assert normalise_domain("192.0.2.1") is None
    assert normalise_domain("x" * 70 + ".fr") is None
    assert normalise_domain("under_score.fr") is None


# --- folded, malformed and hostile headers ---------------------------------

def test_folded_header_with_crlf_line_endings():
    headers = ("Authentication-Results: mx.ecarnet.fr;\n"
               "\tspf=pass (mx.ecarnet.fr: domain of marie@ecarnet.fr designates\n"
               "\t 192.0.2.25 as permitted sender)\n"
               "\t smtp.mailfrom=marie@ecarnet.fr\n")
    assert check(message(headers, crlf=True)).authenticated


@pytest.mark.parametrize("value", [
    "garbage",
    "",
    "mx.ecarnet.fr",
    "mx.ecarnet.fr; dkim=pass (unterminated header.d=ecarnet.fr",
    "mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr \"unterminated",
    "mx.ecarnet.fr; =pass header.d=ecarnet.fr",
    "mx.ecarnet.fr; spf=pass smtp.mailfrom=<>",
    "mx.ecarnet.fr 7; dkim=pass header.d=ecarnet.fr",
    "mx.ecarnet.fr; dkim=pass " + "(" * 5000 + ")" * 5000 + " header.d=ecarnet.fr",
    "mx.ecarnet.fr; dkim=pass header.d=écarnet.fr",
    "mx.ecarnet.fr; dkim=pass header.d=ecarnet.fr\x00\x01",
])
def test_malformed_results_are_refused_never_raised(value):
    verdict = check(results(value))
    assert not verdict.authenticated
    assert verdict.reason


def test_huge_results_header_is_refused_without_parsing():
    value = "mx.ecarnet.fr; " + "; ".join(f"dkim=fail header.d=d{i}.example" for i in range(9000))
    verdict = check(results(value + "; dkim=pass header.d=ecarnet.fr"))
    assert verdict.reason.startswith("Authentication-Results from mx.ecarnet.fr too long (")


def test_malformed_reason_names_the_header():
    verdict = check(results("mx.ecarnet.fr; dkim=pass (unterminated"))
    assert verdict.reason.startswith("malformed Authentication-Results from mx.ecarnet.fr: ")


def test_undecodable_header_bytes():
    raw = (b"Authentication-Results: mx.ecarnet.fr; dkim=pass header.d=\xff\xfe.fr\r\n"
           b"Received: from x (x [192.0.2.10]) by mx.ecarnet.fr; Tue, 14 Jan 2025\r\n"
           b"From: marie@ecarnet.fr\r\n\r\nbody\r\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert not check(msg, relays=("192.0.2.99",)).authenticated


def test_message_without_headers():
    msg = email.message_from_string("\nbody only\n", policy=email.policy.default)
    verdict = check(msg, relays=("192.0.2.10",))
    assert verdict == AuthVerdict(
        False, "no Authentication-Results from mx.ecarnet.fr; no Received header")


def test_random_mutations_never_raise():
    seed = ("mx.ecarnet.fr; dkim=pass (2048-bit key; unprotected) header.d=ecarnet.fr "
            "header.i=@ecarnet.fr header.b=\"AbCd1234\"; spf=pass (x) smtp.mailfrom=a@ecarnet.fr "
            "(client-ip=192.0.2.1; helo=x); dmarc=pass header.from=ecarnet.fr")
    received = "from a (a [192.0.2.10]) (TLS) by mx.ecarnet.fr with ESMTPS id 1; date"
    alphabet = '();"=\\. @/[]:\tabcdpass' + "é\u00a0"
    rng = random.Random(20250114)
    for _ in range(400):
        texts = [list(seed), list(received)]
        for text in texts:
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(text) + 1)
                if rng.random() < 0.5:
                    text.insert(pos, rng.choice(alphabet))
                elif text:
                    del text[min(pos, len(text) - 1)]
        msg = results("".join(texts[0]), received="".join(texts[1]))
        verdict = check(msg, relays=("192.0.2.0/24",))
        assert isinstance(verdict.authenticated, bool) and verdict.reason


# --- trusted relays --------------------------------------------------------

def relayed(*received: str) -> Message:
    return message("".join(f"Received: {r}\n" for r in received))


POSTFIX_RELAY = ("from relay.ecarnet.fr (relay.ecarnet.fr [192.0.2.10]) by mx.ecarnet.fr "
                 "(Postfix) with ESMTPS id 4Q; Tue, 14 Jan 2025 09:12:04 +0100")


def test_trusted_relay_ipv4():
    verdict = check(relayed(POSTFIX_RELAY), relays=("192.0.2.10",))
    assert verdict == AuthVerdict(
        True, "came through trusted relay 192.0.2.10 (topmost Received by mx.ecarnet.fr)")


def test_trusted_relay_cidr_and_ipv6():
    assert check(relayed(POSTFIX_RELAY), relays=("198.51.100.0/24", "192.0.2.0/28")).authenticated
    ipv6 = ("from relay.ecarnet.fr (relay.ecarnet.fr [IPv6:2001:db8::1])\n\tby mx.ecarnet.fr "
            "(Postfix) with ESMTPS id 4Q;\n\tTue, 14 Jan 2025 09:12:04 +0100")
    assert check(relayed(ipv6), relays=("2001:db8::/64",)).authenticated
    assert check(relayed(ipv6), relays=("2001:db8::1",)).authenticated
    assert not check(relayed(ipv6), relays=("192.0.2.0/24", "2001:db8:1::/48")).authenticated


def test_ipv4_mapped_ipv6_address_matches_ipv4_network():
    mapped = POSTFIX_RELAY.replace("[192.0.2.10]", "[IPv6:::ffff:192.0.2.10]")
    assert check(relayed(mapped), relays=("192.0.2.0/24",)).authenticated


def test_untrusted_ip():
    untrusted = POSTFIX_RELAY.replace("192.0.2.10", "203.0.113.5")
    verdict = check(relayed(untrusted), relays=("192.0.2.10",))
    assert verdict == AuthVerdict(False, "no Authentication-Results from mx.ecarnet.fr; "
                                         "topmost Received from 203.0.113.5, not a trusted relay")


def test_forged_received_below_the_top_one_is_ignored():
    top = POSTFIX_RELAY.replace("relay.ecarnet.fr", "evil.example").replace(
        "192.0.2.10", "203.0.113.5")
    assert not check(relayed(top, POSTFIX_RELAY), relays=("192.0.2.10",)).authenticated


@pytest.mark.parametrize("received", [
    # Postfix: a HELO that is an address literal, and one with a comment glued on
    "from [192.0.2.10] (unknown [203.0.113.5]) by mx.ecarnet.fr (Postfix) with ESMTP id 4Q",
    "from x([192.0.2.10]) (unknown [203.0.113.5]) by mx.ecarnet.fr (Postfix) with SMTP id 4Q",
    # Exim: helo= and ident= are the client's words
    "from evil.example ([203.0.113.5]:41234 helo=[192.0.2.10]) by mx.ecarnet.fr with esmtp",
    "from [203.0.113.5] (port=41234 helo=[192.0.2.10] ident=[192.0.2.10]) by mx.ecarnet.fr "
    "with esmtp (Exim 4.96) id 1tXa2b",
])
def test_client_chosen_helo_cannot_claim_a_relay_address(received):
    verdict = check(relayed(received), relays=("192.0.2.10",))
    assert verdict.reason.endswith("topmost Received from 203.0.113.5, not a trusted relay")


@pytest.mark.parametrize("received", [
    "from relay.ecarnet.fr ([192.0.2.10]:41234 helo=relay.ecarnet.fr) by mx.ecarnet.fr with "
    "esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <marie@ecarnet.fr>) "
    "id 1tXa2b-0001Zq-3C for support@ecarnet.fr; Tue, 14 Jan 2025 09:12:04 +0100",
    "from [192.0.2.10] (port=41234 helo=relay.ecarnet.fr) by mx.ecarnet.fr with esmtp id 1",
    "from relay.ecarnet.fr (relay.ecarnet.fr [192.0.2.10] (may be forged)) by mx.ecarnet.fr "
    "(8.17.1/8.17.1) with ESMTP id 50E8C4xY012345",
    "FROM relay.ecarnet.fr (relay.ecarnet.fr [192.0.2.10]) BY MX.ECARNET.FR with ESMTP id 4Q",
])
def test_exim_sendmail_and_uppercase_received(received):
    assert check(relayed(received), relays=("192.0.2.10",)).authenticated


def test_topmost_received_must_be_by_our_server():
    other = POSTFIX_RELAY.replace("by mx.ecarnet.fr", "by mx.evil.example")
    verdict = check(relayed(other), relays=("192.0.2.10",))
    assert verdict.reason.endswith("topmost Received is by mx.evil.example, not mx.ecarnet.fr")
    assert check(relayed(other), ids=(), relays=("192.0.2.10",)).authenticated
    sub = POSTFIX_RELAY.replace("by mx.ecarnet.fr", "by mx2.ecarnet.fr")
    assert check(relayed(sub), ids=("ecarnet.fr",), relays=("192.0.2.10",)).authenticated


def test_received_without_from_clause_or_address():
    local = "by mx.ecarnet.fr (Postfix, from userid 1000) id 4Q; Tue, 14 Jan 2025 09:12:04 +0100"
    verdict = check(relayed(local), relays=("192.0.2.10",))
    assert verdict.reason.endswith("topmost Received shows no connecting IP address")
    m365 = M365.split("\n", 2)
    assert not check(message("\n".join(m365[:2]) + "\n"), ids=(),
                     relays=("2603:10a6::/32",)).authenticated


def test_results_pass_wins_over_a_missing_relay_and_relay_pass_over_failed_results():
    assert check(message(POSTFIX), relays=("198.51.100.1",)).reason.startswith("dkim=pass")
    failed = ("Authentication-Results: mx.ecarnet.fr; dkim=fail header.d=ecarnet.fr\n"
              f"Received: {POSTFIX_RELAY}\n")
    assert check(message(failed), relays=("192.0.2.10",)).reason.startswith(
        "came through trusted relay 192.0.2.10")


def test_relay_networks():
    assert [str(n) for n in relay_networks([" 192.0.2.10 ", "198.51.100.7/24", "2001:db8::1"])
            ] == ["192.0.2.10/32", "198.51.100.0/24", "2001:db8::1/128"]
    with pytest.raises(ValueError, match=r"relay\.ecarnet\.fr"):
        relay_networks(["relay.ecarnet.fr"])
    with pytest.raises(ValueError):
        check(relayed(POSTFIX_RELAY), relays=("192.0.2.300",))
