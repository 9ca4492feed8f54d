"""French names, addresses, shops and products for the generated data."""

from __future__ import annotations

FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Jade", "Louise", "Alice", "Lina",
    "Sarah", "Julie", "Clara", "Zoé", "Anaïs", "Pauline", "Mathilde", "Margaux", "Élodie",
    "Céline", "Nathalie", "Isabelle", "Sophie", "Valérie", "Sandrine", "Aurélie", "Hélène",
    "Agnès", "Brigitte", "Françoise", "Martine", "Océane", "Maëlys", "Romane", "Juliette",
    "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Adam", "Raphaël", "Nathan",
    "Thomas", "Théo", "Maxime", "Antoine", "Nicolas", "Julien", "Alexandre", "Mathieu",
    "Pierre", "Sébastien", "Olivier", "Laurent", "Stéphane", "Christophe", "Philippe",
    "François", "Jérôme", "Benoît", "Grégoire", "Rémi", "Yann", "Loïc", "Cédric", "Baptiste",
    "Quentin", "Clément", "Noé", "Ethan", "Timothée", "Mehdi", "Karim", "Sofiane", "Amélie",
    "Nadia", "Yasmine", "Fatou", "Awa", "Elsa", "Capucine", "Apolline", "Bérénice",
)

LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand",
    "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier",
    "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin",
    "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas",
    "Lacroix", "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc",
    "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "Lopez", "Jean", "Dupuy", "Le Gall",
)

# (postal code, city): a spread of real communes.
CITIES = (
    ("75011", "Paris"), ("75015", "Paris"), ("75018", "Paris"), ("75020", "Paris"),
    ("13001", "Marseille"), ("13008", "Marseille"), ("69003", "Lyon"), ("69007", "Lyon"),
    ("31000", "Toulouse"), ("06000", "Nice"), ("44000", "Nantes"), ("67000", "Strasbourg"),
    ("34000", "Montpellier"), ("33000", "Bordeaux"), ("59000", "Lille"), ("35000", "Rennes"),
    ("51100", "Reims"), ("83000", "Toulon"), ("42000", "Saint-Étienne"), ("76600", "Le Havre"),
    ("38000", "Grenoble"), ("21000", "Dijon"), ("49000", "Angers"), ("30000", "Nîmes"),
    ("63000", "Clermont-Ferrand"), ("72000", "Le Mans"), ("13100", "Aix-en-Provence"),
    ("29200", "Brest"), ("37000", "Tours"), ("80000", "Amiens"), ("87000", "Limoges"),
    ("74000", "Annecy"), ("66000", "Perpignan"), ("57000", "Metz"), ("25000", "Besançon"),
    ("45000", "Orléans"), ("76000", "Rouen"), ("68100", "Mulhouse"), ("14000", "Caen"),
    ("54000", "Nancy"), ("92100", "Boulogne-Billancourt"), ("93100", "Montreuil"),
    ("94300", "Vincennes"), ("78000", "Versailles"), ("64100", "Bayonne"), ("64000", "Pau"),
    ("17000", "La Rochelle"), ("56000", "Vannes"), ("22000", "Saint-Brieuc"), ("29000", "Quimper"),
    ("86000", "Poitiers"), ("24000", "Périgueux"), ("84000", "Avignon"), ("26000", "Valence"),
    ("73000", "Chambéry"), ("65000", "Tarbes"), ("81000", "Albi"), ("12000", "Rodez"),
    ("46000", "Cahors"), ("19100", "Brive-la-Gaillarde"), ("03100", "Montluçon"),
    ("71100", "Chalon-sur-Saône"), ("89000", "Auxerre"), ("10000", "Troyes"),
    ("08000", "Charleville-Mézières"), ("62000", "Arras"), ("02100", "Saint-Quentin"),
    ("60200", "Compiègne"), ("50100", "Cherbourg-en-Cotentin"),
    ("61000", "Alençon"), ("53000", "Laval"), ("85000", "La Roche-sur-Yon"), ("79000", "Niort"),
    ("16000", "Angoulême"), ("40000", "Mont-de-Marsan"), ("09000", "Foix"), ("20000", "Ajaccio"),
    ("97400", "Saint-Denis"), ("97200", "Fort-de-France"), ("05000", "Gap"), ("04000", "Digne-les-Bains"),
)

STREET_TYPES = ("rue", "rue", "rue", "avenue", "boulevard", "place", "allée", "impasse", "chemin",
                "quai", "cours", "route")
STREET_NAMES = (
    "des Lilas", "de la République", "Victor Hugo", "Jean Jaurès", "de la Gare", "Pasteur",
    "du Général de Gaulle", "de la Paix", "des Écoles", "du Moulin", "de l'Église", "Nationale",
    "Gambetta", "Voltaire", "des Tilleuls", "du Château", "Jules Ferry", "de Verdun",
    "Émile Zola", "des Acacias", "du Stade", "de la Liberté", "Carnot", "Saint-Michel",
    "des Roses", "du Marché", "de Provence", "des Peupliers", "Anatole France", "Molière",
    "de Bretagne", "des Vignes", "du Port", "de la Fontaine", "Sainte-Catherine", "Lamartine",
    "des Cerisiers", "du Lavoir", "de l'Abbaye", "Paul Bert", "Louis Pasteur", "des Mimosas",
)
LINE2 = ("Appartement 12", "Bâtiment B", "Résidence Les Pins", "3e étage", "Porte gauche",
         "Chez M. et Mme Durand", "Escalier C", "Boîte 4", "Lieu-dit Les Granges", "Appt 207")

EMAIL_DOMAINS = ("gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr",
                 "wanadoo.fr", "yahoo.fr", "outlook.fr", "bbox.fr", "icloud.com", "proton.me")

SHOP_FIRST = ("L'Atelier", "La Boutique", "Le Comptoir", "La Maison", "Les Créations", "Le Grenier",
              "La Fabrique", "L'Échoppe", "Le Petit Atelier", "La Malle", "Le Jardin", "La Roulotte")
SHOP_SECOND = ("de Lina", "de Margaux", "du Marais", "des Lilas", "de Provence", "des Quatre Saisons",
               "du Vieux Port", "de Camille", "d'Élodie", "des Songes", "du Lin", "de la Rose",
               "du Bocage", "des Brodeuses", "du Bois Joli", "de Mamie Jeanne", "des Canuts",
               "du Pays Basque", "de Bretagne", "des Alpilles", "de Montmartre", "du Cap")

# Products: a noun (with its SKU code and a price range in cents), an adjective, a colour or material.
PRODUCTS = (
    ("Sac cabas", "SAC", 2490, 8990), ("Pochette", "POC", 1290, 3990),
    ("Trousse", "TRS", 890, 2490), ("Tote bag", "TOT", 1290, 2990),
    ("Carte brodée", "CAR", 350, 990), ("Affiche", "AFF", 990, 4990),
    ("Bougie parfumée", "BOU", 1290, 3490), ("Savon artisanal", "SAV", 450, 990),
    ("Bol en céramique", "BOL", 1490, 3990), ("Tasse", "TAS", 1290, 2990),
    ("Assiette", "ASS", 1690, 4490), ("Vase", "VAS", 1990, 8990),
    ("Coussin", "COU", 2490, 5990), ("Plaid", "PLA", 4990, 12990),
    ("Bonnet", "BON", 1990, 4590), ("Écharpe", "ECH", 2490, 7990),
    ("Boucles d'oreilles", "BOR", 1490, 5990), ("Collier", "COL", 1990, 8990),
    ("Bracelet", "BRA", 990, 4990), ("Bague", "BAG", 1990, 9990),
    ("Carnet", "CRN", 690, 1990), ("Marque-page", "MPG", 290, 890),
    ("Doudou", "DOU", 1990, 4990), ("Bavoir", "BAV", 890, 1990),
    ("Tablier", "TAB", 1990, 4490), ("Torchon", "TOR", 690, 1690),
    ("Panier", "PAN", 1990, 5990), ("Miroir", "MIR", 2990, 11990),
    ("Lampe", "LAM", 3990, 14990), ("Porte-clés", "PCL", 490, 1490),
    ("Chouchou", "CHO", 390, 990), ("Barrette", "BAR", 490, 1290),
    ("Macramé mural", "MAC", 2490, 8990), ("Attrape-rêves", "ATR", 1490, 3990),
    ("Pot à épices", "POT", 890, 2490), ("Planche à découper", "PLD", 1990, 4990),
)
ADJECTIVES = ("brodé", "fait main", "vintage", "bohème", "minimaliste", "rayé", "fleuri",
              "à pois", "tressé", "personnalisé", "en édition limitée", "imprimé", "doux")
COLOURS = (
    ("rouge", "ROU"), ("bleu", "BLE"), ("vert sauge", "VSA"), ("moutarde", "MOU"),
    ("terracotta", "TER"), ("écru", "ECR"), ("noir", "NOI"), ("rose poudré", "RPO"),
    ("bleu canard", "BCA"), ("lin naturel", "LIN"), ("bordeaux", "BOR"), ("gris perle", "GRP"),
    ("ocre", "OCR"), ("blanc", "BLA"), ("kaki", "KAK"), ("corail", "COR"),
)

PAYMENT_NOTES = ("", "", "", "", "Virement reçu", "PayPal", "Virement instantané",
                 "Chèque encaissé", "Lydia", "Paiement en espèces à l'atelier")
CANCEL_REASONS = ("", "Article en rupture de stock", "Demande de la cliente",
                  "Paiement non reçu", "Erreur de commande", "Demande du client")
PAYMENT_INSTRUCTIONS = (
    "Virement : IBAN FR76 3000 6000 0112 3456 7890 189 (indiquez la référence de la commande).",
    "PayPal : paiement à l'adresse de la boutique, en précisant la référence de la commande.",
    "Virement ou Lydia, au choix : les coordonnées sont dans votre e-mail de confirmation.",
)
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.0 Safari/605.1.15",
)
