"""Click's own words (« Usage », « Options », « Error: », the help option) in French.

The commands speak French; Click's frame around them is English and Click looks its words up
with the standard library's `gettext` in the process-wide domain, which follows the terminal's
locale. The product's operators read French whatever their terminal: Click's modules get
the French catalogue of Click's words (locale/fr/LC_MESSAGES/click.po, made from Click's
source) in place of that look-up. A word missing from the catalogue stays English.
"""

from __future__ import annotations

import gettext
import importlib
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "click"
# Click's modules that translate, each with `from gettext import gettext as _` (and ngettext).
_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types",
            "utils", "_termui_impl", "shell_completion")


def catalogue() -> gettext.GNUTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=["fr"])


def install() -> None:
    """Click speaks French from now on in this process (idempotent)."""
    french = catalogue()
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = french.gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = french.ngettext  # type: ignore[attr-defined]
