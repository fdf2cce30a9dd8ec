"""The invented students of the test reports: names, classes, list files, pseudonyms.

Every word used in a student name is in :data:`STUDENT_NAME_WORDS`, so tests
can check that none leaks. Re-exported by :mod:`tests.reportmail`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# The six students of the default class (id, nom, prenom).
CLASS = [
    ("E-0001", "Fontaine", "Léa"),
    ("E-0002", "N'Diaye", "Moussa"),
    ("E-0003", "Lefèvre", "Chloé"),
    ("E-0004", "Benali", "Inès"),
    ("E-0005", "Garnier", "Théo"),
    ("E-0006", "Rousseau", "Jade"),
]
FIRST_NAMES = tuple(dict.fromkeys((
    "Léa Moussa Chloé Inès Théo Jade Hugo Louise Nathan Emma Lina Noah Zoé Sacha Maël Rayan "
    "Anaïs Yanis Manon Camille Ibrahim Élise Gabriel Sarah Mathis Aïcha Enzo Clara Jules "
    "Maëlys Arthur Nour Romane Timéo Yasmine Raphaël Océane Kylian Héloïse Malik Noé Agathe "
    "Bilal Capucine Evan Salomé Ambre Wassim Margaux Eliott").split()))
LAST_NAMES = tuple(dict.fromkeys((
    "Fontaine N'Diaye Lefèvre Benali Garnier Rousseau Moreau Girard Mercier Blanchard Faure "
    "Chevalier Gauthier Perrin Morin Roussel Gautier Masson Marchand Duval Dumont Lemoine "
    "Meyer Dufour Meunier Giraud Joly Rivière Brunet Gaillard Barbier Arnaud Martinez Gérard "
    "Roche Renard Schmitt Leroux Vidal Caron Picard Fabre Aubert Renaud Dumas Lacroix "
    "Bourgeois Leclerc Payet Rolland Leclercq Lecomte López Dupuy Guillot Hubert Berger "
    "Carpentier Sanchez Dupuis Moulin Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein "
    "Jacquet Poirier Marty Aubry Guyot Carré Renault Charpentier Ménard Maillard Baron Bertin "
    "Bailly Schneider Fernandez Collet Léger Bouvier Prévost Millet Perrot Cousin Breton "
    "Besson Langlois Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber Mallet "
    "Hamon Boulanger Monnier Michaud Rodriguez Guichard Gillet Grondin Poulain Tessier "
    "Chevallier Collin Chauvin Bouchet Lemaître Bénard Maréchal Humbert Reynaud Hoarau Perret "
    "Barthélemy Cordier Pichon Lejeune Lamy Delaunay Pasquier Carlier Laporte").split()))
# The row ``build_report_mail(malformed_csv=True)`` inserts: an unquoted ";" in a
# first name ("Anne;Sophie") gives it one field too many, so it cannot be read.
MALFORMED_ROW = "E-0099;Marchetti;Anne;Sophie;2024-09-02;;actif"
MALFORMED_NAMES = ("Marchetti", "Anne", "Sophie")
STUDENT_NAME_WORDS = tuple(sorted(set(FIRST_NAMES) | set(LAST_NAMES) | set(MALFORMED_NAMES)))


def pseudonymise(value: str) -> str:
    """The tests' keyed pseudonymiser (HMAC-SHA256, as the caller would do)."""
    digest = hmac.new(b"test-secret", value.encode("utf-8"), hashlib.sha256).digest()
    return "ELV-" + base64.b32encode(digest).decode("ascii")[:6]


def class_list(n_students: int) -> list[tuple[str, str, str]]:
    """``(id, nom, prenom)`` rows: the default class, then generated names."""
    rows = list(CLASS[:n_students])
    for index in range(len(rows), n_students):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        rows.append((f"E-{index + 1:04d}", last, first))
    return rows


def media_counts(index: int) -> tuple[int, int, int, int]:
    """(photos, videos, documents, bytes) of student number *index* (0-based)."""
    return 10 + index, index % 4, index % 3 + 1, 1_000_000 * (index + 1)


def status(index: int) -> str:
    """Every third student (index 1, 4, …) is inactive."""
    return "inactif" if index % 3 == 1 else "actif"


def eleves_csv(rows: list[tuple[str, str, str]], *, sensitive_excluded: bool) -> str:
    """eleves.csv text (LF line ends; the builder converts)."""
    header = "id;cree_le;derniere_activite;statut" if sensitive_excluded else \
        "id;nom;prenom;cree_le;derniere_activite;statut"
    lines = [header]
    for index, (student_id, last, first) in enumerate(rows):
        state = status(index)
        activity = "" if state == "inactif" else "2025-04-05T17:40:00+02:00"
        names = "" if sensitive_excluded else f"{last};{first};"
        lines.append(f"{student_id};{names}2024-09-02;{activity};{state}")
    return "\n".join(lines) + "\n"


def medias_csv(rows: list[tuple[str, str, str]], *, skip_last: int = 0,
               orphan: bool = False) -> str:
    """medias.csv text: one row per student except the last *skip_last*."""
    lines = ["eleve_id;photos;videos;documents;taille_octets"]
    for index, (student_id, _, _) in enumerate(rows[:len(rows) - skip_last]):
        photos, videos, documents, size = media_counts(index)
        lines.append(f"{student_id};{photos};{videos};{documents};{size}")
    if orphan:
        lines.append("E-9999;3;0;1;5000000")
    return "\n".join(lines) + "\n"
