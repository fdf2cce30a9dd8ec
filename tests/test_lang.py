from mailbot.lang import detect_language


def test_french_mail_is_french():
    assert detect_language("Bonjour, je n'arrive pas à ajouter des photos dans le carnet.") == "fr"


def test_english_mail_is_english():
    text = "Hello, I cannot export the portfolio of my students and the app shows an error."
    assert detect_language(text) == "en"


def test_unclear_text_falls_back_to_the_default():
    assert detect_language("ECN-4F7K2Q ???", default="fr") == "fr"
    assert detect_language("", default="en") == "en"


def test_mixed_mail_with_french_majority_is_french():
    text = "Bonjour, le bouton « Export » affiche « error: the file is not ready » depuis hier."
    assert detect_language(text) == "fr"
