"""Raw material for demo doctors and patients: cities, names, streets (realistic, accented)."""

from __future__ import annotations

from dataclasses import dataclass

# fmt: off


@dataclass(frozen=True)
class City:
    name: str
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float
    country: str
    time_zone: str
    currency: str
    weight: int  # share of the demo doctors practising there
    english: bool = False


CITIES: tuple[City, ...] = (
    City("Paris", tuple(f"750{n:02d}" for n in range(1, 21)), 48.8566, 2.3522, "FR",
         "Europe/Paris", "EUR", 60),
    City("Lyon", tuple(f"6900{n}" for n in range(1, 10)), 45.7640, 4.8357, "FR",
         "Europe/Paris", "EUR", 30),
    City("Marseille", tuple(f"130{n:02d}" for n in range(1, 17)), 43.2965, 5.3698, "FR",
         "Europe/Paris", "EUR", 25),
    City("Toulouse", ("31000", "31100", "31200", "31300", "31400", "31500"), 43.6047, 1.4442,
         "FR", "Europe/Paris", "EUR", 20),
    City("Nice", ("06000", "06100", "06200", "06300"), 43.7102, 7.2620, "FR",
         "Europe/Paris", "EUR", 15),
    City("Nantes", ("44000", "44100", "44200", "44300"), 47.2184, -1.5536, "FR",
         "Europe/Paris", "EUR", 15),
    City("Strasbourg", ("67000", "67100", "67200"), 48.5734, 7.7521, "FR",
         "Europe/Paris", "EUR", 15),
    City("Montpellier", ("34000", "34070", "34080", "34090"), 43.6108, 3.8767, "FR",
         "Europe/Paris", "EUR", 15),
    City("Bordeaux", ("33000", "33100", "33200", "33300", "33800"), 44.8378, -0.5792, "FR",
         "Europe/Paris", "EUR", 20),
    City("Lille", ("59000", "59160", "59260", "59800"), 50.6292, 3.0573, "FR",
         "Europe/Paris", "EUR", 15),
    City("Rennes", ("35000", "35200", "35700"), 48.1173, -1.6778, "FR",
         "Europe/Paris", "EUR", 12),
    City("Bruxelles", ("1000", "1050", "1060", "1180"), 50.8503, 4.3517, "BE",
         "Europe/Brussels", "EUR", 14),
    City("Genève", ("1201", "1204", "1205", "1206"), 46.2044, 6.1432, "CH",
         "Europe/Zurich", "CHF", 10),
    City("Luxembourg", ("L-1009", "L-1430", "L-2540"), 49.6116, 6.1319, "LU",
         "Europe/Luxembourg", "EUR", 10),
    City("London", ("W1G 9PF", "SW1A 1AA", "EC1A 1BB"), 51.5074, -0.1278, "GB",
         "Europe/London", "GBP", 2, english=True),
    City("New York", ("10001", "10016", "10021"), 40.7128, -74.0060, "US",
         "America/New_York", "USD", 2, english=True),
)

FIRST_NAMES_F = (
    "Élodie", "Amélie", "Hélène", "Chloé", "Léa", "Inès", "Zoé", "Maëlle", "Anaïs", "Céline",
    "Noémie", "Mélanie", "Camille", "Claire", "Sophie", "Juliette", "Manon", "Émilie", "Agnès",
    "Bérénice", "Margaux", "Laure", "Sandrine", "Nathalie", "Aurélie", "Pauline", "Valérie",
)
FIRST_NAMES_M = (
    "Étienne", "Jérôme", "Frédéric", "Loïc", "Benoît", "Rémi", "Théo", "Mathéo", "Gaël", "Noël",
    "Hervé", "Jérémie", "Raphaël", "Joël", "Antoine", "Nicolas", "Julien", "Thomas", "Hugo",
    "Lucas", "Maxime", "François", "Stéphane", "Sébastien", "Cédric", "Grégoire", "Aurélien",
)
LAST_NAMES = (
    "Lefèvre", "Dubois", "Martin", "Bernard", "Petit", "Durand", "Moreau", "Laurent", "Simon",
    "Michel", "Garcia", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
    "Mercier", "Dupont", "Lambert", "Bonnet", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
    "Fontaine", "Chevalier", "Robin", "Masson", "Gérard", "Nguyen", "Boyer", "Lemaire", "Duval",
    "Joly", "Roche", "Noël", "Meyer", "Meunier", "Pérez", "Marchand", "Dufour", "Blanchard",
    "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Renard", "Arnaud",
    "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Lemoine", "Picard", "Fabre",
    "Lacroix", "Dupuis", "Rivière", "Le Gall", "Ménard", "Fleury", "Deschamps", "Prévost",
    "Poirier", "Charpentier", "Carré", "Rémy", "Benhamou", "Haddad", "Da Silva", "Kowalski",
)
ENGLISH_FIRST = ("Emily", "Oliver", "Amelia", "James", "Sarah", "Michael", "Hannah", "Daniel")
ENGLISH_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Williams", "O'Connor", "Patel", "Cohen")

STREETS = (
    "rue de la République", "avenue Jean-Jaurès", "boulevard Voltaire", "rue Victor-Hugo",
    "place de la Mairie", "rue Pasteur", "avenue Foch", "rue du Général-Leclerc",
    "rue des Écoles", "quai de la Loire", "rue Sainte-Catherine", "cours Mirabeau",
)
ENGLISH_STREETS = ("Harley Street", "Baker Street", "Park Avenue", "Lexington Avenue")

# (code, weight): general practice dominates, as in any real directory.
SPECIALTY_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("general-practice", 40), ("pediatrics", 12), ("dermatology", 10), ("gynecology", 10),
    ("cardiology", 9), ("ophthalmology", 9), ("psychiatry", 8), ("dentistry", 10),
    ("physiotherapy", 10), ("ent", 6), ("orthopedics", 6), ("neurology", 5),
    ("gastroenterology", 5), ("endocrinology", 4), ("pulmonology", 4), ("rheumatology", 4),
    ("urology", 4), ("allergology", 4), ("sports-medicine", 4), ("midwifery", 5),
    ("geriatrics", 3), ("nephrology", 2), ("oncology", 2), ("hematology", 2),
    ("infectious-diseases", 2), ("radiology", 3), ("anesthesiology", 2), ("plastic-surgery", 2),
)
# Second specialties that real doctors combine with the first one.
SECOND_SPECIALTY: dict[str, tuple[str, ...]] = {
    "general-practice": ("sports-medicine", "geriatrics"),
    "dermatology": ("allergology",),
    "pulmonology": ("allergology",),
    "orthopedics": ("sports-medicine",),
    "endocrinology": ("nephrology",),
    "oncology": ("hematology",),
    "pediatrics": ("allergology",),
}
# Fee ranges in minor units (cents): a GP visit ~25-30 €, specialists more.
FEE_RANGES: dict[str, tuple[int, int]] = {
    "general-practice": (2500, 3000),
    "physiotherapy": (2000, 3500),
    "midwifery": (2500, 3500),
    "dentistry": (2300, 6000),
    "psychiatry": (5000, 12000),
    "plastic-surgery": (8000, 15000),
}
DEFAULT_FEE_RANGE = (4500, 9000)
EXTRA_LANGUAGES = ("en", "en", "en", "es", "de", "it", "ar", "pt", "nl", "zh")

BIO_FR = (
    "{specialty} à {city}. {years} ans d'expérience. Consultations en {languages}. {accepting}"
)
BIO_EN = (
    "{specialty} in {city}. {years} years of experience. Consultations in {languages}. "
    "{accepting}"
)
LANGUAGE_NAMES_FR = {
    "fr": "français", "en": "anglais", "es": "espagnol", "de": "allemand", "it": "italien",
    "ar": "arabe", "pt": "portugais", "nl": "néerlandais", "zh": "chinois",
}
LANGUAGE_NAMES_EN = {
    "fr": "French", "en": "English", "es": "Spanish", "de": "German", "it": "Italian",
    "ar": "Arabic", "pt": "Portuguese", "nl": "Dutch", "zh": "Chinese",
}
# fmt: on
