"""Demo data a newcomer can click through: one seller and about twenty orders in every status.

Every order goes through the workflow, at the times it would have happened (a workflow whose
clock is set in the past), so histories, e-mails and due dates are the real ones. Loading twice
creates nothing new: an order already there (same external id) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Order, OrderLine, Seller
from .passwords import hash_password
from .workflow import Actor, Address, LineInput, OrderInput, PickupPoint, Workflow

DEMO_EMAIL = "demo@uniqu3.fr"
DEMO_SHOP = "L'Atelier Démo"
DEMO_PAYMENT_INSTRUCTIONS = (
    "Virement bancaire à L'Atelier Démo — IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP — "
    "en indiquant la référence de la commande. Ou PayPal : paiement@atelier-demo.fr."
)
ORDER_ACTOR = Actor.api("démo")
SELLER_ACTOR = Actor.seller(DEMO_EMAIL)

PRODUCTS: dict[str, tuple[str, int]] = {
    "SAC-LIN-ROUGE": ("Sac cabas en lin lavé – rouge brique", 3490),
    "SAC-LIN-SABLE": ("Sac cabas en lin lavé – sable", 3490),
    "BOUGIE-FIGUE": ("Bougie parfumée figue et cèdre, 180 g", 2200),
    "BOUGIE-AMBRE": ("Bougie parfumée ambre doux, 180 g", 2200),
    "CARNET-A5-KRAFT": ("Carnet relié main A5, couverture kraft", 1850),
    "MUG-GRES-BLEU": ("Mug en grès émaillé bleu nuit", 2400),
    "BO-LAITON-FEUILLE": ("Boucles d'oreilles feuille en laiton", 2900),
    "SAVON-LAVANDE": ("Savon surgras à la lavande de Provence", 750),
    "COUSSIN-LIN-40": ("Housse de coussin en lin 40 × 40 cm", 3200),
    "TOTE-BRODE": ("Tote bag brodé main « Bonjour »", 2500),
    "CARTE-BRODEE": ("Carte de vœux brodée", 550),
    "PLAID-MERINOS": ("Plaid en laine mérinos, 130 × 170 cm", 8900),
    "BOL-CERAMIQUE": ("Bol en céramique tournée, émail moucheté", 2100),
    "COLLIER-PERLES": ("Collier de perles d'eau douce", 4500),
    "PORTE-CLES-CUIR": ("Porte-clés en cuir végétal", 1200),
}


def _address(name: str, line1: str, postal_code: str, city: str, country: str = "FR",
             line2: str = "") -> Address:
    return Address(name=name, line1=line1, line2=line2, postal_code=postal_code, city=city,
                   country=country)


@dataclass(frozen=True)
class DemoOrder:
    external_id: str
    buyer: str
    email: str
    address: Address
    items: tuple[tuple[str, int], ...]  # (sku, quantity)
    scenario: str
    age: timedelta  # how long ago it was placed
    billing: Address | None = None  # when billed to someone else
    shipping_cents: int = 0
    phone: str | None = None  # E.164
    pickup_point: PickupPoint | None = None


def _frozen_clock(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


def _d(days: float) -> timedelta:
    return timedelta(days=days)


# Ages and step times (see _Scenario.play) keep every due time of a parcel the buyer confirms
# ahead of now: an automatic receipt scheduled by the jobs layer can never beat the demo's
# confirmation. Parcels received automatically are due well in the past.
ORDERS: tuple[DemoOrder, ...] = (
    # En attente de paiement
    DemoOrder("DEMO-1001", "Camille Martin", "camille.martin@example.com",
              _address("Camille Martin", "12 rue des Lilas", "69003", "Lyon"),
              (("SAC-LIN-ROUGE", 1), ("CARTE-BRODEE", 1)), "awaiting_payment", _h(3),
              shipping_cents=590, phone="+33612345678"),
    DemoOrder("DEMO-1002", "Louis Bernard", "louis.bernard@example.com",
              _address("Louis Bernard", "8 cours de l'Intendance", "33000", "Bordeaux"),
              (("BOUGIE-FIGUE", 2),), "awaiting_payment", _h(18)),
    DemoOrder("DEMO-1003", "Chloé Dubois", "chloe.dubois@example.com",
              _address("Chloé Dubois", "3 place du Capitole", "31000", "Toulouse", line2="Appartement 12"),
              (("MUG-GRES-BLEU", 2), ("BOL-CERAMIQUE", 2)), "awaiting_payment", _d(2)),
    DemoOrder("DEMO-1004", "Adam Lefebvre", "adam.lefebvre@example.com",
              _address("Adam Lefebvre", "Rue Haute 112", "1000", "Bruxelles", country="BE"),
              (("PLAID-MERINOS", 1),), "awaiting_payment", _d(4)),
    # Payée
    DemoOrder("DEMO-1005", "Hugo Lefèvre", "hugo.lefevre@example.com",
              _address("Hugo Lefèvre", "27 rue Nationale", "59800", "Lille"),
              (("CARNET-A5-KRAFT", 3),), "paid", _d(1), shipping_cents=450, phone="+33320123456",
              pickup_point=PickupPoint(carrier="Mondial Relay", id="059123",
                                       name="Tabac Presse du Vieux-Lille", line1="12 rue de la Monnaie",
                                       line2="", postal_code="59800", city="Lille", country="FR")),
    DemoOrder("DEMO-1006", "Léa Moreau", "lea.moreau@example.com",
              _address("Léa Moreau", "14 boulevard de la Croisette", "06400", "Cannes"),
              (("BO-LAITON-FEUILLE", 1), ("COLLIER-PERLES", 1)), "paid", _d(3)),
    DemoOrder("DEMO-1007", "Gabriel Laurent", "gabriel.laurent@example.com",
              _address("Gabriel Laurent", "5 rue du Dôme", "67000", "Strasbourg"),
              (("SAVON-LAVANDE", 4), ("BOUGIE-AMBRE", 1)), "paid", _d(6)),
    # Partiellement expédiée
    DemoOrder("DEMO-1008", "Manon Simon", "manon.simon@example.com",
              _address("Manon Simon", "41 quai de la Fosse", "44000", "Nantes"),
              (("COUSSIN-LIN-40", 2), ("PLAID-MERINOS", 1)), "partial", _d(3)),
    DemoOrder("DEMO-1009", "Arthur Michel", "arthur.michel@example.com",
              _address("Arthur Michel", "58 La Canebière", "13001", "Marseille"),
              (("TOTE-BRODE", 2), ("CARTE-BRODEE", 3)), "partial", _d(5)),
    DemoOrder("DEMO-1010", "Inès Garcia", "ines.garcia@example.com",
              _address("Inès Garcia", "19 rue de la République", "84000", "Avignon"),
              (("SAC-LIN-SABLE", 1), ("BOUGIE-FIGUE", 1), ("SAVON-LAVANDE", 2)),
              "partial_awaiting_receipt", _d(8)),
    # Expédiée
    DemoOrder("DEMO-1011", "Jules Roux", "jules.roux@example.com",
              _address("Jules Roux", "7 rue Saint-Michel", "35000", "Rennes"),
              (("MUG-GRES-BLEU", 1),), "shipped", _d(3)),
    DemoOrder("DEMO-1012", "Zoé Fournier", "zoe.fournier@example.com",
              _address("Zoé Fournier", "33 rue des Carmes", "45000", "Orléans"),
              (("PORTE-CLES-CUIR", 2), ("CARNET-A5-KRAFT", 1)), "shipped", _d(4)),
    DemoOrder("DEMO-1013", "Nathan Girard", "nathan.girard@example.com",
              _address("Nathan Girard", "10 place Stanislas", "54000", "Nancy"),
              (("COLLIER-PERLES", 1),), "awaiting_receipt", _d(7)),
    DemoOrder("DEMO-1014", "Emma Muller", "emma.muller@example.com",
              _address("Jeanne Muller", "4 rue des Vosges", "68000", "Colmar"),
              (("PLAID-MERINOS", 1), ("CARTE-BRODEE", 1)), "awaiting_receipt", _d(9),
              billing=_address("Emma Muller", "22 rue Oberkampf", "75011", "Paris")),
    DemoOrder("DEMO-1015", "Jade Bonnet", "jade.bonnet@example.com",
              _address("Jade Bonnet", "22 rue d'Espagne", "64100", "Bayonne"),
              (("BOUGIE-AMBRE", 2), ("BOL-CERAMIQUE", 1)), "two_parcels_one_received", _d(10)),
    # Reçue (par l'acheteur)
    DemoOrder("DEMO-1016", "Raphaël Dupont", "raphael.dupont@example.com",
              _address("Raphaël Dupont", "15 rue Mercière", "69002", "Lyon"),
              (("SAC-LIN-ROUGE", 1),), "received_by_buyer", _d(10)),
    DemoOrder("DEMO-1017", "Alice Lambert", "alice.lambert@example.com",
              _address("Alice Lambert", "6 rue du Port", "56000", "Vannes"),
              (("COUSSIN-LIN-40", 1), ("TOTE-BRODE", 1)), "received_two_parcels", _d(11)),
    # Reçue automatiquement (7 jours sans réponse)
    DemoOrder("DEMO-1018", "Tom Fontaine", "tom.fontaine@example.com",
              _address("Tom Fontaine", "48 rue de Siam", "29200", "Brest"),
              (("MUG-GRES-BLEU", 4),), "received_auto", _d(16)),
    DemoOrder("DEMO-1019", "Rose Faure", "rose.faure@example.com",
              _address("Rose Faure", "3 chemin des Vignes", "21200", "Beaune"),
              (("BO-LAITON-FEUILLE", 2), ("SAVON-LAVANDE", 1)), "received_auto", _d(25)),
    # Annulée
    DemoOrder("DEMO-1020", "Paul Vincent", "paul.vincent@example.com",
              _address("Paul Vincent", "1 rue Gambetta", "87000", "Limoges"),
              (("PORTE-CLES-CUIR", 1),), "cancelled", _d(5)),
    DemoOrder("DEMO-1021", "Lina Rousseau", "lina.rousseau@example.com",
              _address("Lina Rousseau", "9 rue des Tanneurs", "67000", "Strasbourg"),
              (("BOUGIE-FIGUE", 1), ("CARNET-A5-KRAFT", 1)), "cancelled_after_payment", _d(9)),
    # Problème signalé par le client (réception automatique suspendue), puis colis perdu
    DemoOrder("DEMO-1022", "Sacha Perrin", "sacha.perrin@example.com",
              _address("Sacha Perrin", "2 rue Paradis", "13006", "Marseille"),
              (("BOL-CERAMIQUE", 2),), "problem", _d(8)),
    DemoOrder("DEMO-1023", "Eva Chevalier", "eva.chevalier@example.com",
              _address("Eva Chevalier", "17 rue Nationale", "37000", "Tours"),
              (("COUSSIN-LIN-40", 1), ("BOUGIE-AMBRE", 1)), "lost_and_reshipped", _d(12)),
    # Reste clos (rupture de stock) : le montant des articles non expédiés est à rembourser
    DemoOrder("DEMO-1024", "Inès Roux", "ines.roux@example.com",
              _address("Inès Roux", "5 rue de la Monnaie", "59800", "Lille"),
              (("TOTE-BRODE", 1), ("BOUGIE-FIGUE", 2)), "remainder_closed", _d(6)),
)

#: Parcels: the carrier and a tracking number of the right shape, per parcel number.
_CARRIERS = ("colissimo", "mondial_relay", "chronopost", "lettre_suivie")


#: The buyers' devices when they press « J'ai bien reçu » (documentation addresses, RFC 5737/3849).
_BUYER_DEVICES = (
    ("203.0.113.24", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    ("198.51.100.61", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ("2001:db8:4f2a::17", "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                          "Chrome/131.0.0.0 Mobile Safari/537.36"),
)


def _tracking(carrier: str, seed: int) -> str:
    if carrier == "colissimo":
        return f"6A{seed:011d}"
    if carrier == "mondial_relay":
        return f"{seed:08d}"
    if carrier == "chronopost":
        return f"XY{seed:09d}FR"
    return f"1K{seed:011d}"


@dataclass
class DemoReport:
    seller_created: bool
    created: list[str] = field(default_factory=list)  # references of the new orders
    existing: int = 0
    seller_active: bool = True


class _Scenario:
    """Plays one order's story with a workflow whose clock is set at each step."""

    def __init__(self, session: Session, demo: DemoOrder, order_id: int, placed_at: datetime,
                 now: datetime, days: int, number: int) -> None:
        self.session = session
        self.demo = demo
        self.order_id = order_id
        self.t0 = placed_at
        self.now = now
        self.days = days
        self.number = number
        self.parcels = 0

    def at(self, offset: timedelta | None) -> Workflow:
        moment = self.now if offset is None else self.t0 + offset
        return Workflow(self.session, auto_receipt_days=self.days, clock=_frozen_clock(moment))

    def lines(self) -> list[OrderLine]:
        return list(self.session.scalars(
            select(OrderLine).where(OrderLine.order_id == self.order_id).order_by(OrderLine.position)
        ))

    def pay(self) -> None:
        self.at(_h(20)).confirm_payment(self.order_id, actor=SELLER_ACTOR,
                                        note="Virement reçu")

    def ship(self, offset: timedelta, *, positions: tuple[int, ...] | None = None) -> int:
        """Ship what is left of the given lines (all by default); returns the parcel id."""
        quantities = {line.id: line.remaining for line in self.lines()
                      if line.remaining and (positions is None or line.position in positions)}
        carrier = _CARRIERS[(self.number + self.parcels) % len(_CARRIERS)]
        self.parcels += 1
        result = self.at(offset).ship(
            self.order_id, actor=SELLER_ACTOR, quantities=quantities, carrier=carrier,
            tracking_number=_tracking(carrier, self.number * 100 + self.parcels),
        )
        assert result.shipment is not None
        return result.shipment.id

    def request(self, shipment_id: int, offset: timedelta) -> None:
        self.at(offset).request_receipt(shipment_id, actor=SELLER_ACTOR)

    def confirm(self, shipment_id: int, offset: timedelta) -> None:
        # What the proof of receipt keeps of the buyer's press: their address and browser.
        ip, user_agent = _BUYER_DEVICES[(self.number + self.parcels) % len(_BUYER_DEVICES)]
        self.at(offset).confirm_receipt(shipment_id, ip=ip, user_agent=user_agent)

    def play(self) -> None:
        s = self.demo.scenario
        if s == "awaiting_payment":
            return
        if s == "cancelled":
            self.at(_d(2)).cancel(self.order_id, actor=SELLER_ACTOR,
                                  reason="Paiement non reçu après relance.")
            return
        self.pay()
        if s == "paid":
            return
        if s == "cancelled_after_payment":
            self.at(_d(2)).cancel(self.order_id, actor=SELLER_ACTOR,
                                  reason="Article abîmé à l'atelier : remboursement effectué.")
            # Everything paid is given back, and recorded: a refund done.
            order = self.session.get(Order, self.order_id)
            assert order is not None
            self.at(_d(2) + _h(1)).record_refund(
                self.order_id, actor=SELLER_ACTOR, amount_cents=order.refund_due_cents, method="transfer",
                reference="VIR-DEMO-1021", note="Virement sur le compte du client.")
            return
        if s == "remainder_closed":
            # The first line leaves; the candles are out of stock: closed, a refund due.
            self.ship(_h(44), positions=(1,))
            self.at(_d(2)).close_remainder(self.order_id, actor=SELLER_ACTOR,
                                           reason="Bougie à la figue en rupture de stock.")
            return
        if s in ("partial", "partial_awaiting_receipt"):
            parcel = self.ship(_h(44), positions=(1,))
            if s == "partial_awaiting_receipt":
                self.request(parcel, _d(5))
            return
        if s in ("two_parcels_one_received", "received_two_parcels"):
            first = self.ship(_h(44), positions=(1,))
            second = self.ship(_d(3))
            self.request(first, _d(5))
            self.request(second, _d(6))
            self.confirm(first, _d(7))
            if s == "received_two_parcels":
                self.confirm(second, _d(7) + _h(3))
            return
        parcel = self.ship(_h(44))
        if s == "shipped":
            return
        self.request(parcel, _d(5))
        if s == "problem":
            self.at(_d(6)).report_problem(
                parcel, reason="damaged", ip="198.51.100.14",
                user_agent="Mozilla/5.0 (Linux; Android 15) Chrome/131.0 Mobile Safari/537.36",
                message="Un des deux bols est arrivé fêlé, le carton était enfoncé sur un coin.")
            self.at(_d(6) + _h(2)).message_buyer(
                parcel, actor=SELLER_ACTOR, request_key="demo-1022",
                message="Je suis désolée ! Pouvez-vous m'envoyer une photo du bol et du carton ?")
            return
        if s == "lost_and_reshipped":
            self.at(_d(7)).report_problem(
                parcel, reason="not_received", ip="192.0.2.61",
                user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0",
                message="Le suivi est bloqué depuis une semaine et je n'ai rien reçu.")
            self.at(_d(8)).declare_lost(parcel, actor=SELLER_ACTOR)
            again = self.ship(_d(9))
            self.request(again, _d(11))
            return
        if s == "received_by_buyer":
            self.confirm(parcel, _d(6))
        elif s == "received_auto":
            # Seven days went by without an answer: the parcel is received automatically now.
            self.at(None).auto_receive(parcel)


def _demo_input(demo: DemoOrder) -> OrderInput:
    return OrderInput(
        external_id=demo.external_id,
        seller_email=DEMO_EMAIL,
        buyer_name=demo.buyer,
        buyer_email=demo.email,
        billing_address=demo.billing or demo.address,
        shipping_address=demo.address,
        currency="EUR",
        lines=tuple(LineInput(sku=sku, title=PRODUCTS[sku][0], quantity=qty,
                              unit_price_cents=PRODUCTS[sku][1]) for sku, qty in demo.items),
        shipping_cents=demo.shipping_cents,
        buyer_phone=demo.phone,
        pickup_point=demo.pickup_point,
    )


def load_demo(
    session: Session,
    *,
    password: str,
    now: datetime,
    auto_receipt_days: int,
    on_order: Callable[[str, str], None] | None = None,
) -> DemoReport:
    """Create the demo seller and orders that are missing; `on_order(reference, scenario)`."""
    seller = session.scalar(select(Seller).where(func.lower(Seller.email) == DEMO_EMAIL))
    report = DemoReport(seller_created=seller is None)
    if seller is None:
        seller = Seller(email=DEMO_EMAIL, shop_name=DEMO_SHOP, password_hash=hash_password(password),
                        payment_instructions=DEMO_PAYMENT_INSTRUCTIONS, locale="fr", active=True,
                        created_at=now - _d(30))
        session.add(seller)
        session.commit()
    report.seller_active = seller.active
    if not seller.active:
        return report
    for number, demo in enumerate(ORDERS, start=1):
        placed_at = now - demo.age
        workflow = Workflow(session, auto_receipt_days=auto_receipt_days, clock=_frozen_clock(placed_at))
        result = workflow.place_order(_demo_input(demo), actor=ORDER_ACTOR, source="demo")
        if not result.changed:
            report.existing += 1
            continue
        order_id, reference = result.order.id, result.order.reference
        _Scenario(session, demo, order_id, placed_at, now, auto_receipt_days, number).play()
        report.created.append(reference)
        if on_order is not None:
            on_order(reference, demo.scenario)
    return report
