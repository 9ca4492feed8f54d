"""Refusals of the workflow. Each carries a stable code and a message a seller can read.

Messages are French (the product's language); the web layer may translate them. The code
names the rule that refused (`not_paid`, `quantity_exceeds_remaining`…): the API answers it
as the error's `code`, so a program can act on it without reading the message. Every code is
in `CODES` below, the one list of them (a refusal raised with its own `code=` excepted: a
message made elsewhere, such as a carrier's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..carriers import translate_params


class WorkflowError(Exception):
    """`template` is a French message with %(name)s placeholders filled from `params`;
    `message` is the French text, `translated(gettext)` the text in the reader's language."""

    code = "refused"

    def __init__(
        self, template: str, *, field: str | None = None, code: str | None = None, **params: Any
    ) -> None:
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(self.message)
        self.field = field
        # The rule's own code, else the kind's (`invalid_input`…) for a message not listed.
        self.code = code or CODES.get(template) or type(self).code

    def translated(self, gettext: Callable[..., str]) -> str:
        # A value may be a message of its own (a carrier's number hint): translated too.
        return gettext(self.template, **translate_params(self.params, gettext))

    def __str__(self) -> str:
        return self.message


class NotFound(WorkflowError):
    code = "not_found"


class InvalidTransition(WorkflowError):
    """The order or parcel is not in a state that allows this action."""

    code = "invalid_transition"


class InvalidInput(WorkflowError):
    """A value given to the action is refused (quantity, date, tracking number…)."""

    code = "invalid_input"


class Conflict(WorkflowError):
    """The same marketplace order id came again with a different content."""

    code = "conflict"


#: Refusals whose message is made elsewhere, named where they are raised.
INVALID_EMAIL = "invalid_email"
INVALID_TRACKING_NUMBER = "invalid_tracking_number"
INVALID_TRACKING_URL = "invalid_tracking_url"
UNKNOWN_CARRIER = "unknown_carrier"
#: Also answered by the API when a parcel names a SKU the order lacks, or one SKU twice.
UNKNOWN_LINE = "unknown_line"
REPEATED_SKU = "repeated_sku"

#: The code of each refusal, by its message (the template, the same for every language).
CODES: dict[str, str] = {
    # the order
    "Commande introuvable.": "order_not_found",
    "Colis introuvable.": "shipment_not_found",
    "Vendeur inconnu ou inactif.": "unknown_seller",
    "La commande %(external_id)s existe déjà avec un contenu différent (%(reference)s).":
        "external_id_conflict",
    "L'identifiant de commande est obligatoire.": "external_id_required",
    "Seul l'euro (EUR) est accepté.": "currency_not_accepted",
    "Une commande a de 1 à %(max)s lignes.": "line_count",
    "Une référence (SKU) apparaît deux fois.": REPEATED_SKU,
    "Quantité invalide pour %(sku)s : de 1 à %(max)s.": "invalid_quantity",
    "Prix invalide pour %(sku)s.": "invalid_price",
    # payment and cancellation
    "Cette commande est annulée : son paiement ne peut plus être confirmé.": "already_cancelled",
    "Cette commande est annulée.": "already_cancelled",
    "La commande ne peut plus être annulée : un colis a déjà été expédié.": "already_shipped",
    # a parcel
    "Cette commande est annulée : rien ne peut être expédié.": "already_cancelled",
    "Le paiement doit être confirmé avant d'expédier la commande.": "not_paid",
    "Tous les articles de cette commande sont déjà expédiés.": "nothing_left_to_ship",
    "La quantité expédiée pour %(sku)s dépasse ce qui reste à expédier.": "quantity_exceeds_remaining",
    "%(sku)s est déjà entièrement expédié.": "quantity_exceeds_remaining",
    "Il reste 1 article à expédier pour cette ligne.": "quantity_exceeds_remaining",
    "Il reste %(remaining)s articles à expédier pour cette ligne.": "quantity_exceeds_remaining",
    "Une quantité ne peut pas être négative : 0 laisse cette ligne hors du colis.": "negative_quantity",
    "Une ligne choisie n'appartient pas à cette commande.": UNKNOWN_LINE,
    "Sélectionnez au moins une référence à expédier, avec sa quantité.": "no_line_to_ship",
    "%(sku)s n'a plus rien à expédier : le reste est clos.": "quantity_exceeds_remaining",
    "Choisissez un transporteur de la liste.": UNKNOWN_CARRIER,
    "Indiquez le nom du transporteur.": "carrier_name_required",
    "Le numéro de suivi %(number)s est déjà enregistré pour un colis de cette commande.":
        "duplicate_tracking_number",
    "La date d'expédition ne peut pas être dans le futur.": "ship_date_in_future",
    "La date d'expédition ne peut pas précéder la date de la commande.": "ship_date_before_order",
    # the receipt
    "Le client a signalé un problème sur ce colis : répondez-lui, puis relancez la "
    "confirmation ou déclarez le colis perdu.": "problem_open",
    "Ce colis a été déclaré perdu.": "parcel_lost",
    "Ce colis a été déclaré perdu par le vendeur : sa réception ne peut plus être confirmée.":
        "parcel_lost",
    "Ce colis a déjà été déclaré perdu par le vendeur.": "parcel_lost",
    "Ce colis est déjà reçu.": "already_received",
    "Ce colis est déjà reçu : un problème ne peut plus être signalé ici. Écrivez directement au vendeur.":
        "already_received",
    "Ce colis est déjà reçu : il ne peut plus être déclaré perdu.": "already_received",
    "La confirmation de réception n'est pas encore activée pour ce colis.": "receipt_not_requested",
    # a problem and the seller's answers
    "Choisissez ce qui ne va pas avec ce colis.": "invalid_reason",
    "Décrivez le problème en quelques mots.": "message_required",
    "Écrivez votre message au client.": "message_required",
    "Le message est trop long : %(max)s caractères au plus (%(count)s saisis).": "message_too_long",
    "Aucun problème n'est en cours sur ce colis : rien à relancer.": "no_open_problem",
    "Les quantités de ce colis ne correspondent plus à la commande.": "quantities_mismatch",
    # closing the remainder (out of stock)
    "Cette commande est annulée : il n'y a rien à clore.": "already_cancelled",
    "Le paiement n'est pas confirmé : rien n'est à clore. Pour abandonner la commande, annulez-la.":
        "not_paid",
    "Tout est déjà expédié ou clos : il ne reste rien à clore.": "nothing_left_to_close",
    "Choisissez au moins un article à clore, avec sa quantité.": "no_line_to_close",
    "Indiquez le motif : le client le lira dans l'e-mail.": "reason_required",
    "Il ne reste plus autant d'articles à clore pour %(sku)s.": "quantity_exceeds_remaining",
    # corrections: undoing a payment, editing a parcel
    "Une partie de cette commande a été close : la confirmation du paiement ne peut plus être annulée.":
        "remainder_closed",
    "Un colis de cette commande est déjà parti : la confirmation du paiement ne peut plus être annulée.":
        "already_shipped",
    "Cette commande est annulée : son paiement ne peut plus être modifié.": "already_cancelled",
    "Le paiement de cette commande n'est pas confirmé : rien à annuler.": "not_paid",
    "Ce colis est déjà reçu : son suivi ne peut plus être modifié.": "already_received",
    "Ce colis a été déclaré perdu : son suivi ne peut plus être modifié. Ses articles sont à expédier "
    "dans un nouveau colis.": "parcel_lost",
    "La date d'expédition ne peut pas suivre la demande de confirmation de réception (le %(day)s).":
        "ship_date_after_receipt_request",
    # refunds
    "Le paiement de cette commande n'est pas confirmé : rien n'est à rembourser.": "not_paid",
    "Rien n'est à rembourser sur cette commande : annulez-la, ou indiquez d'abord avec « Clore le reste » "
    "les articles que vous n'expédierez pas.": "nothing_to_refund",
    "Le montant remboursé doit être supérieur à 0.": "invalid_amount",
    "Le montant dépasse ce qui reste à rembourser : %(due)s au plus.": "amount_exceeds_due",
    "Choisissez le moyen de remboursement dans la liste.": "unknown_refund_method",
    "Tout ce qui était à rembourser l'est déjà : %(refunded)s.": "nothing_to_refund",
    "Le client a déjà été remboursé de %(refunded)s pour les articles perdus : ils ne peuvent plus être "
    "expédiés. Retirez-les de ce qui reste à expédier avec « Clore le reste ».": "refunded_as_lost",
    # a file of tracking numbers (its rows' problems)
    "Le fichier dépasse %(max)s Mo : découpez-le en plusieurs fichiers.": "file_too_large",
    "Le fichier est vide.": "empty_file",
    "Colonnes manquantes : %(columns)s. La première ligne nomme les colonnes : référence, transporteur, "
    "numéro de suivi, et si besoin date d'expédition, SKU et quantité.": "missing_columns",
    "Le fichier n'a aucune ligne après celle des colonnes.": "empty_file",
    "Date d'expédition illisible : « %(value)s » (attendu : JJ/MM/AAAA).": "invalid_date",
    "Le fichier n'est pas un CSV lisible (ligne %(line)s).": "unreadable_file",
    "Le fichier a plus de %(max)s lignes : découpez-le en plusieurs fichiers.": "file_too_large",
    "Le fichier n'est ni en UTF-8 ni en Windows-1252 : enregistrez-le en CSV UTF-8.": "unreadable_file",
    "La référence de la commande manque.": "reference_required",
    "Quantité invalide : « %(value)s ».": "invalid_quantity",
    "Commande inconnue : %(reference)s.": "order_not_found",
    "Le colis %(number)s apparaît sur plusieurs lignes avec un autre transporteur ou une autre date.":
        "inconsistent_parcel",
    "Ce colis est sur plusieurs lignes : indiquez le SKU de chacune.": "sku_required",
    "Indiquez le SKU : la commande a plusieurs articles.": "sku_required",
    "Le SKU %(sku)s n'est pas dans cette commande.": UNKNOWN_LINE,
    "Le SKU %(sku)s apparaît deux fois pour ce colis.": REPEATED_SKU,
    "Une autre ligne de ce colis est refusée : corrigez-la pour expédier le colis.": "parcel_refused",
    # several orders at once
    "Sélectionnez au moins une commande.": "no_order_selected",
    "%(max)s commandes au plus par action : %(count)s sont sélectionnées.": "too_many_orders",
    "Aucun colis n'est expédié pour cette commande : rien à confirmer.": "nothing_to_confirm",
}

#: Every code a refusal may carry: the listed ones, those named where raised, and each kind's own.
ALL_CODES: frozenset[str] = frozenset({
    *CODES.values(), INVALID_EMAIL, INVALID_TRACKING_NUMBER, INVALID_TRACKING_URL, UNKNOWN_CARRIER,
    UNKNOWN_LINE, REPEATED_SKU, WorkflowError.code, NotFound.code, InvalidTransition.code, InvalidInput.code,
    Conflict.code,
})
