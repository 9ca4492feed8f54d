"""Language tests: the seller pages' logged-in client, and a check that text is English only."""

from __future__ import annotations

import html as html_module
import re

from tests.e2e.conftest import artifacts, browser, live_server  # noqa: F401  (fixtures)
from tests.seller.conftest import _isolated_requests, login, order_in, sc  # noqa: F401  (fixtures)
from uniqu3.carriers import all_carriers

# What gives French away: accents, French spacing before : ; ! ?, common French words.
_FRENCH = re.compile(
    r"[àâçéèêëîïôûùüÿœ«»]|\s[:;!?](?=\s|$)"
    r"|\b(?:le|la|les|des|du|un|une|et|est|sont|au|aux|commande|commandes|colis|vous|votre|vos"
    r"|pour|avec|sans|chez|paiement|livraison|expédié|reçu)\b",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Carrier brands keep their names (« Colissimo (La Poste) », « Colis Privé »).
BRANDS = tuple(carrier.name for carrier in all_carriers() if carrier.code not in {"other", "hand_delivery"})


def visible_text(page: str) -> str:
    """What a reader sees or hears: the text, and the attributes shown or read aloud."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    spoken = " ".join(re.findall(r'\b(?:placeholder|aria-label|title|alt)="([^"]*)"', page))
    text = re.sub(r"<[^>]+>", " ", page) + " " + spoken
    return " ".join(html_module.unescape(text).replace("\u00a0", " ").replace("\u202f", " ").split())


def french_left(text: str, *data: str) -> list[str]:
    """French fragments of `text` once the data (names, titles, addresses, brands, links) is out."""
    for value in sorted({*data, *BRANDS}, key=len, reverse=True):
        text = text.replace(value, "DATA")
    text = _URL.sub("LINK", text)
    return [text[max(0, m.start() - 30):m.end() + 30] for m in _FRENCH.finditer(text)]
