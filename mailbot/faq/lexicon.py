"""Word lists for FAQ ranking: stop words and a small help-desk glossary.

Everything here is *folded* (lower case, no accents), as produced by
:func:`mailbot.faq.text.fold`. The glossary turns what users actually type
(SMS abbreviations, English, run-together words) into the French words the
articles use, so ``mdp`` finds « mot de passe » and ``password`` too. Add an
entry when the benchmark shows a real question missing its article.
"""

from __future__ import annotations

# French and English function words, plus help-desk noise that says nothing
# about the topic (greetings, politeness, « ça ne marche pas »).
STOP_WORDS: frozenset[str] = frozenset(
    # French
    "a ai aie aient ais ait as au aucun aucune aussi autre aux avais avait avant avec avez "
    "aviez avions avoir avons ayant bah ben bien c ca ce ceci cela celle celles celui ces cet "
    "cette ceux chaque chez ci comme comment d dans de des deja depuis dois doit donc dont du "
    "elle elles en encore entre es est et etaient etais etait etant ete etes etre eu eux fai "
    "fais fait faire faut fois font ici il ils j je jusqu l la le les leur leurs lui m ma mais "
    "me meme memes mes moi mon n ne ni nos notre nous on ont ou par parce pas peu peut peuvent "
    "peux plus pour pourquoi pourrais pourriez pouvez pouvoir puis qu quand que quel quelle "
    "quelles quels qui quoi s sa sans se sera serait ses si sien soit sommes son sont sous "
    "suis sur t ta te tes toi ton tous tout toute toutes tres tu un une unes uns vais vas "
    "veux voudrais voulais votre vos vous y pendant durant apres lors malgre parmi contre "
    "vers selon environ "
    # help-desk noise (French)
    "bonjour bonsoir salut merci remercie remerciant cordialement cordiales salutations "
    "bonne journee soiree madame monsieur mme mr svp stp vite urgent urgence aide aidez "
    "aider besoin probleme problemes souci soucis question questions marche marchent "
    "fonctionne fonctionnent arrive arrivons arriver reussi reussis possible impossible "
    "ecarnet carnet application appli app logiciel truc chose choses faire voila voici "
    "quelqu quelque quelques tjs toujours jamais rien alors sinon oui non ok "
    "hier demain aujourd hui matin soir maintenant part cas super vraiment tellement "
    "carrement grave "
    # verbs that say nothing about the topic
    "indiquer indique indiquez souhaite souhaiterais souhaiterai souhaitons voudrions "
    "vouloir veut veulent savoir sais sait voir vois trouve trouver trouvons cherche "
    "chercher cherchons demande demander demandons propose proposez proposer utiliser "
    "utilise "
    "soient sois serai serais seront pourrai pourra pourront pris prise prises prendre "
    "prend prends reste restent rester dessus dessous "
    # SMS spellings of function words (« jarrive pa », « ke », « koi »)
    "pa ke ki koi kan kand pk pq pr ds ns vs tt ts bcp mm jsuis chui jpeux jsais jai "
    "cest sest nest quil jme jte jvais g ct sa slt bjr cc mci mrc tjr tjrs qd ac avc "
    # instruction verbs of the articles (« Touchez… », « Ouvrez… »)
    "touchez toucher touche ouvrez ouvrir ouvre choisissez choisir choisis verifiez "
    "verifier appuyez appuyer selectionnez selectionner "
    # English
    "about after again all am an and any are as at be been before being but by can cannot "
    "could did do does doing don dont for from get got had has have having he her here him "
    "his how i if in into is it its just me more my no not of on once only or other our out "
    "please regards so some such than thank thanks that the their them then there these "
    "they this those to too very was we were what when where which while who why will with "
    "would you your hello hi dear best cheers help issue problem work works working "
    "anymore still keep keeps want wanted like know need get see can their".split()
)

# Words nearly every mail to an e-carnet help desk contains: weak evidence of a topic.
DOMAIN_WORDS: frozenset[str] = frozenset(
    "classe classes ecole ecoles eleve eleves enseignant enseignante enseignants maitre "
    "maitresse professeur prof tablette tablettes portfolio portfolios".split()
)
DOMAIN_WEIGHT = 0.5

# folded word -> folded French replacement words (used for queries only)
SYNONYMS: dict[str, tuple[str, ...]] = {
    # SMS / colloquial French
    "mdp": ("motdepasse",), "pwd": ("motdepasse",), "motdepass": ("motdepasse",),
    "synchro": ("synchronisation",), "synchros": ("synchronisation",),
    "sync": ("synchronisation",), "synch": ("synchronisation",),
    "synchroniz": ("synchronisation",), "vids": ("video",), "vid": ("video",),
    "tel": ("telephone",), "smartphone": ("telephone",),
    "ipad": ("tablette",), "tab": ("tablette",), "dl": ("telecharger",),
    "maj": ("miseajour",), "offline": ("horsligne",),
    "deco": ("deconnecte",), "co": ("connexion",), "log": ("connexion",),
    "login": ("connexion", "identifiant"), "beug": ("bug",), "bugue": ("bug",),
    "gamins": ("eleves",), "rame": ("lente",), "rament": ("lente",),
    "ramer": ("lente",), "lag": ("lente",), "lague": ("lente",), "ordi": ("ordinateur",),
    "dispo": ("disponible",),
    "rgpd": ("rgpd", "donnees", "personnelles"), "cnil": ("rgpd",),
    "floue": ("flou",), "floues": ("flou",), "pdf": ("pdf", "export"),
    "bulletin": ("evaluation",), "livret": ("evaluation", "competences"),
    # English -> French
    "synchronize": ("synchronisation",), "synchronization": ("synchronisation",),
    "syncing": ("synchronisation",), "synced": ("synchronisation",),
    "stuck": ("bloquee",), "frozen": ("bloquee",), "blocked": ("bloquee",),
    "storage": ("stockage",), "space": ("espace",), "full": ("plein",),
    "memory": ("stockage",),
    "heavy": ("lourde",), "large": ("lourde",), "big": ("lourde",), "huge": ("lourde",),
    "password": ("motdepasse",), "forgot": ("oublie",), "forgotten": ("oublie",),
    "reset": ("reinitialiser",), "account": ("compte",), "sign": ("connexion",),
    "signin": ("connexion",), "locked": ("bloque", "compte"),
    "exporting": ("export",), "print": ("imprimer",),
    "printing": ("imprimer",), "student": ("eleve",), "students": ("eleves",),
    "pupil": ("eleve",), "pupils": ("eleves",), "add": ("ajouter",),
    "adding": ("ajouter",), "class": ("classe",), "classes": ("classes",),
    "year": ("annee",), "end": ("fin",), "archive": ("archiver",),
    "parent": ("parents",), "families": ("familles",),
    "family": ("famille",), "share": ("partager",), "sharing": ("partage",),
    "internet": ("internet", "reseau"), "network": ("reseau",),
    "update": ("miseajour",), "updates": ("miseajour",), "upgrade": ("miseajour",),
    "updated": ("miseajour",), "privacy": ("rgpd", "donnees"), "gdpr": ("rgpd",),
    "consent": ("consentement",), "picture": ("photo",), "pictures": ("photos",),
    "blurry": ("flou",), "rotated": ("pivoter",),
    "sideways": ("orientation",), "upside": ("orientation",), "device": ("appareil",),
    "tablet": ("tablette",), "phone": ("telephone",), "new": ("nouvel",),
    "transfer": ("transferer",), "switch": ("changer",), "report": ("rapport",),
    "support": ("assistance",), "assessment": ("evaluation",), "grade": ("evaluation",),
    "grading": ("evaluation",), "skills": ("competences",), "skill": ("competence",),
    "delete": ("supprimer",), "deleted": ("supprime",), "lost": ("perdu",),
    "missing": ("disparu",), "recover": ("recuperer",), "restore": ("restaurer",),
    "upload": ("envoi",), "download": ("telecharger",), "slow": ("lent",),
    "compress": ("compresser",), "long": ("longue",),
    "without": ("sans",), "connection": ("connexion",), "trash": ("corbeille",),
    "bin": ("corbeille",), "rights": ("droit",),
}

# Teachers' own vocabulary -> the concepts the articles are written with (folded, used
# for queries only). Concept-level, not per question: an « enfant » is an « élève »,
# a « cahier de réussites » is the carnet, « sortir sur papier » is the PDF export,
# a « code » may be the password or the family invitation code, « papa »/« maman »
# are the parents, « effacé » media are in the Corbeille. Set phrases (« cahier de
# réussites », « sur papier ») are joined in :mod:`mailbot.faq.text` first.
TEACHER_SYNONYMS: dict[str, tuple[str, ...]] = {
    # children
    "enfant": ("eleve",), "enfants": ("eleves",), "gamin": ("eleve",),
    "gamine": ("eleve",), "petits": ("eleves",), "loulous": ("eleves",),
    # the carnet (« carnet » itself says nothing: every mail names it)
    "cahierdereussites": ("carnet",), "carnetdesuivi": ("carnet",), "cahier": ("carnet",),
    # paper -> PDF export
    "surpapier": ("imprimer", "export", "pdf"), "papier": ("imprimer", "export", "pdf"),
    "imprime": ("imprimer", "export"), "imprimer": ("imprimer", "export"),
    "impression": ("impression", "export"),
    # code / access -> password (and the family invitation code)
    "code": ("motdepasse", "code"), "codes": ("motdepasse", "code"),
    "acces": ("connexion", "acces"), "reconnecter": ("connexion",),
    "identifier": ("connexion", "identifiant"),
    # families
    "famille": ("parents", "famille"), "familles": ("parents", "familles"),
    "papa": ("parents",), "maman": ("parents",), "pere": ("parents",), "mere": ("parents",),
    "papas": ("parents",), "mamans": ("parents",),
    # deleted media -> Corbeille
    # (« supprimé » itself is a keyword of the Corbeille and of the RGPD articles: no
    # expansion to corbeille, which pushed every « supprimer » mail to the Corbeille)
    "efface": ("supprime", "corbeille"), "effacee": ("supprime", "corbeille"),
    "effaces": ("supprime", "corbeille"), "effacees": ("supprime", "corbeille"),
    "effacer": ("supprimer", "corbeille"),
    "megarde": ("erreur",), "disparues": ("disparu",),
    # devices
    "ipad": ("tablette", "appareil"), "ipads": ("tablette", "appareil"),
    "tel": ("telephone",), "portable": ("telephone",),
    # media and sizes
    "film": ("video",), "films": ("video",), "filme": ("video",), "grosse": ("lourde",),
    "gros": ("lourde",), "raccourcir": ("couper", "duree"), "decouper": ("couper",),
    # speed, crash
    "lent": ("lente", "lenteur"), "rame": ("lente",), "rament": ("lente",),
    "ramer": ("lente",), "quitte": ("ferme",),
    # network
    "reseau": ("reseau", "connexion"), "wifi": ("wifi", "reseau"),
    # school year
    "juin": ("fin", "annee"), "college": ("passage", "annee"), "sixieme": ("passage",),
    # assessment
    "acquis": ("acquisition", "competence"), "acquise": ("acquisition", "competence"),
    "valider": ("evaluer", "competence"), "reussites": ("reussite", "competence"),
    # image rights
    "refuse": ("refus",), "refusent": ("refus",),
    # « je ne me souviens plus de mon code »
    "souviens": ("oublie",), "souvient": ("oublie",), "rappelle": ("oublie",),
    # English family words
    "child": ("enfant", "eleve"), "children": ("enfants", "eleves"),
}

# Words naming another system or a non-support subject (other school software,
# billing, sales, hardware, school administration, feature requests). Each one in
# a question lowers the confidence of every article and raises the bar like an
# unknown word, whether or not an article mentions it: « Mon ENT est bloqué »
# is about the ENT, even though the password article explains the ENT login.
FOREIGN_WORDS: frozenset[str] = frozenset(
    # other school software and mail
    "ent pronote messagerie messagerieacademique cahierdetexte "
    "toutatice monlycee beneylu onde siecle eduscol educonnect klassroom "
    # billing, licences, sales
    "facture factures facturation licence licences devis abonnement abonnements tarif "
    "tarifs prix paiement payer rembourser remboursement commande "
    "demonstration demo webinaire "
    # hardware and repairs
    "reparation reparations reparer fissure fissuree chargeur chargeurs tni vpi "
    "videoprojecteur imprimante imprimantes batterie garantie sav "
    # school administration
    "cantine mairie inscription inscriptions absence absences absent appel "
    "periscolaire "
    # feature requests
    "fonctionnalite fonctionnalites fonction prevu evolution suggestion".split()
)
FOREIGN_PENALTY = 0.5
"""Confidence factor per foreign word in the question (at most two count)."""

SYNONYMS.update(TEACHER_SYNONYMS)
