"""import-tracking: a seller's tracking numbers from a CSV file, as « Importer des numéros de
suivi » takes them (same reading, checks and workflow), applied at once with a report per row."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from ..services import workflow
from ..workflow import Actor, WorkflowError
from ..workflow import tracking_import as imports
from .group import command
from .sellers import find_seller


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(imports.MAX_BYTES + 1)
    except OSError as exc:
        raise click.ClickException(
            _("Impossible de lire %(path)s : %(reason)s", path=path, reason=exc.strerror or str(exc))
        ) from exc


@command("import-tracking")
@click.argument("file", metavar="FILE")
@click.option("--seller", "email", required=True, metavar="EMAIL", help="Le vendeur des commandes.")
def import_tracking(file: str, email: str) -> None:
    """Importer des numéros de suivi : un fichier CSV (référence, transporteur, numéro de suivi,
    date d'expédition, SKU et quantité facultatifs), comme la page « Importer des numéros de suivi ».

    Chaque colis est expédié par le même contrôle que la page de la commande ; une ligne refusée
    n'empêche pas les suivantes, un colis déjà importé ne l'est pas deux fois. Code de sortie 1
    si au moins une ligne est refusée.
    """
    seller = find_seller(email)
    try:
        rows = imports.read_file(_read(file))
    except WorkflowError as refused:
        raise click.ClickException(refused.translated(_)) from refused
    report = imports.apply(workflow(), seller.id, rows, actor=Actor.operator("import-tracking"))
    for r in report.rows:
        label = _("ligne %(line)s, %(reference)s", line=r.row.line, reference=r.row.reference or "—")
        if r.state == imports.State.DONE:
            click.echo(_("%(label)s : importé, colis n° %(number)s", label=label, number=r.parcel_number))
        elif r.state == imports.State.ALREADY:
            click.echo(_("%(label)s : déjà importé", label=label))
        else:
            click.echo(_("%(label)s : refusée — %(reasons)s", label=label,
                         reasons=" ; ".join(p.translated(_) for p in r.problems)))
    click.echo(_("Import terminé : %(done)d importée(s), %(already)d déjà importée(s), %(refused)d "
                 "refusée(s).", done=report.count(imports.State.DONE),
                 already=report.count(imports.State.ALREADY), refused=report.refused))
    if report.refused:
        raise click.ClickException(_(
            "%(count)d ligne(s) refusée(s) : corrigez-les et relancez l'import (les colis déjà "
            "importés ne le seront pas deux fois).", count=report.refused))
