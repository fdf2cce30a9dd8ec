import re

from mailbot import threads


def test_new_ref_has_the_documented_format():
    refs = {threads.new_ticket_ref() for _ in range(200)}
    assert all(re.fullmatch(r"ECN-[0-9A-HJKMNP-TV-Z]{6}", r) for r in refs)
    assert len(refs) > 190  # random, not a counter or a constant


def test_ref_found_in_tagged_and_bare_subjects():
    assert threads.find_ticket_ref("Re: [#ECN-4F7K2Q] Demande reçue") == "ECN-4F7K2Q"
    assert threads.find_ticket_ref("à propos du ticket ecn-4f7k2q") == "ECN-4F7K2Q"
    assert threads.find_ticket_ref("TR: RE: [#ECN-4F7K2Q]") == "ECN-4F7K2Q"


def test_crockford_aliases_are_normalised():
    # O typed for 0, l/I typed for 1
    assert threads.find_ticket_ref("[#ECN-4O7KIQ]") == "ECN-407K1Q"


def test_no_ref_in_lookalikes():
    assert threads.find_ticket_ref("Problème de synchronisation") is None
    assert threads.find_ticket_ref("ECN-4F7K2QX trop long") is None
    assert threads.find_ticket_ref("ECN-4F7K trop court") is None
    assert threads.find_ticket_ref("XECN-4F7K2Q collé") is None
    assert threads.find_ticket_ref("ECN-4F7U2Q") is None  # U is not Crockford


def test_tag_subject_adds_the_ref_once():
    tagged = threads.tag_subject("Photos", "ECN-4F7K2Q")
    assert tagged == "[#ECN-4F7K2Q] Photos"
    assert threads.tag_subject(tagged, "ECN-4F7K2Q") == tagged
