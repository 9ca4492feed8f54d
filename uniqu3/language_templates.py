"""Jinja environments with a language bound: one per app and language, for the e-mails and
for the pages rendered often (« Commandes »).

The app's environment (Flask-Babel's) looks the language up in the request context at every
`_()` call, through three nested context calls, about 35 times per e-mail: most of the cost
of rendering one. Here each language has an environment of its own, with the app's loader,
settings, filters and globals, and its catalogue bound once:
- `_('text')` without values is translated when the template is compiled (it becomes the
  translated text, marked safe in an HTML template, as the runtime call would return it);
- `_('text %(x)s', x=…)` calls a gettext bound to the catalogue, with Jinja's new-style
  semantics (the translation is markup in an HTML template; the values are escaped into it).
The output is the same as the app's environment's (tests/mail/test_render.py compares them).
A page rendered here still gets Flask's template context (`app.update_template_context`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from flask import Flask
from flask_babel import force_locale, get_translations
from jinja2 import Environment, Template, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from markupsafe import Markup

_ENVIRONMENTS = "uniqu3.language_environments"
_GETTEXT_NAMES = frozenset({"_", "gettext"})
# After `_('text')`, these would apply to the call's result: not a place to fold it.
_POSTFIX = frozenset({"dot", "lbracket", "lparen"})


def language_environment(app: Flask, locale: str) -> Environment:
    """`app`'s templates with `locale`'s catalogue bound (made once per app and language)."""
    environments: dict[str, Environment] = app.extensions.setdefault(_ENVIRONMENTS, {})
    env = environments.get(locale)
    if env is None:
        with app.app_context(), force_locale(locale):
            translations = get_translations()
        base = app.jinja_env
        options = dict(app.jinja_options)
        options.setdefault("autoescape", base.autoescape)
        options.setdefault("auto_reload", base.auto_reload)
        extensions = [*options.pop("extensions", ()), "jinja2.ext.i18n", ConstantTranslations]
        env = _LanguageEnvironment(loader=base.loader, extensions=extensions, **options)
        env.filters.update(base.filters)
        env.tests.update(base.tests)
        env.policies.update(base.policies)
        env.globals.update(base.globals)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext = _bound_gettext(translations.gettext)
        env.globals.update(_=gettext, gettext=gettext)
        env.extend(translate=translations.gettext)
        environments[locale] = env
    return env


class _LanguageEnvironment(Environment):
    """Templates are looked up 7 times per e-mail (the two parts, their layout and macros):
    without auto-reload a loaded one is kept in a plain dict, not behind the LRU cache's lock."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._loaded: dict[str, Template] = {}

    def get_template(self, name: str | Template, parent: str | None = None,
                     globals: MutableMapping[str, Any] | None = None) -> Template:
        if isinstance(name, Template) or globals is not None or self.auto_reload:
            return super().get_template(name, parent, globals)
        if parent is not None:
            name = self.join_path(name, parent)
        template = self._loaded.get(name)
        if template is None:
            template = self._loaded[name] = super().get_template(name)
        return template

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A plain dict, not Jinja's ChainMap that follows later changes of the environment's
        globals (these are set once, before any template is loaded): each render copies the
        globals and each `{% import %}` compares their keys, much faster with a dict."""
        return {**self.globals, **(d or {})}


def warm_up(app: Flask) -> None:
    """Compile every e-mail template in each language now (forked workers inherit them)."""
    for locale in app.config.get("LANGUAGES") or ["fr"]:
        env = language_environment(app, locale)
        for name in env.list_templates(filter_func=lambda n: n.startswith("email/")):
            env.get_template(name)


def _bound_gettext(translate: Callable[[str], str]) -> Callable[..., str]:
    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **values: Any) -> str:
        text: str = translate(string)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % values  # new-style: always a format string

    return gettext


class ConstantTranslations(Extension):
    """Replaces `_('text')` (a literal, nothing to fill in, no '%') by its translation."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        translate: Callable[[str], str] | None = getattr(self.environment, "translate", None)
        if translate is None:
            return stream
        autoescape = self.environment.autoescape
        safe = autoescape(stream.name) if callable(autoescape) else bool(autoescape)
        return _folded(list(stream), translate, safe)


def _folded(tokens: list[Token], translate: Callable[[str], str], safe: bool) -> Iterator[Token]:
    i = 0
    while i < len(tokens):
        name, *call = tokens[i:i + 4]
        after = tokens[i + 4].type if i + 4 < len(tokens) else ""
        before = tokens[i - 1].type if i else ""
        if (name.type == "name" and name.value in _GETTEXT_NAMES and before not in ("dot", "pipe")
                and [t.type for t in call] == ["lparen", "string", "rparen"] and after not in _POSTFIX
                and "%" not in call[1].value):
            text = translate(call[1].value)
            if "%" not in text:
                yield Token(name.lineno, "string", text)
                if safe:  # what the runtime call returns in an HTML template: markup
                    yield Token(name.lineno, "pipe", "|")
                    yield Token(name.lineno, "name", "safe")
                i += 4
                continue
        yield name
        i += 1
