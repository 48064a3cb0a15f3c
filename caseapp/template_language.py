"""Templates compiled once per language: `_('text')` in a template file becomes the translated text itself.

A case page asked `_()` about 80 times at every view, and a list or console page 30 to 40: each a call through
Jinja's context, a catalogue lookup, a Markup and a `%` (templating.gettext), ~3 µs, for a text that is the same
at every view in one language. Each file template is therefore compiled once per language, under the name
`<language>:<name>`, with every `_('literal')` and `gettext('literal')` replaced by its translation: as output it
becomes part of the template's static text; with variables (`_('Case %(code)s', code=...)`) only the `%` is left,
which escapes them as before.

What is not a literal call stays a call to templating.gettext at render time: a variable text, `**kwargs`, a
template that names something `_` itself, a text whose `%` would fail (so the error stays where it was, at the
render that reaches it). Templates from strings (`render_template_string`) have no language and are untouched.

The language is the one the render runs in (`flask_babel.get_locale()`: the reader's, or force_locale's); an
include, import or extends takes its parent's, so one render is one language throughout. A compiled template's
`name` carries its language (`es_CO:cases/detail.html`); `own_name()` gives the file's.
"""
from __future__ import annotations

from flask.templating import Environment
from flask_babel import force_locale, get_locale, get_translations
from jinja2 import BaseLoader, nodes
from jinja2.visitor import NodeTransformer

_SEPARATOR = ":"  # never in a template's own name here: names are paths under templates/
_TRANSLATED_NAMES = ("_", "gettext")


class LanguageEnvironment(Environment):
    """Flask's Jinja environment, with file templates loaded and cached per language (the class Flask builds its
    `jinja_env` from: caseapp.create_app sets it)."""

    @property
    def loader(self):
        return self._language_loader

    @loader.setter
    def loader(self, loader):
        # whatever loader is set (Jinja's __init__, a test's own), it is asked for templates by their own names
        self._language_loader = loader if loader is None or isinstance(loader, _LanguageLoader) else (
            _LanguageLoader(loader))

    def get_template(self, name, parent=None, globals=None):
        if isinstance(name, str):
            name = _in_language(name, parent)
        return super().get_template(name, parent, globals)

    def select_template(self, names, parent=None, globals=None):
        if isinstance(names, (list, tuple)):
            names = [_in_language(n, parent) if isinstance(n, str) else n for n in names]
        return super().select_template(names, parent, globals)

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        language = language_of(name)
        if language is not None and isinstance(source, str):
            source = translate_literals(self.parse(source, name, filename), language)
        return super().compile(source, name, filename, raw, defer_init)


class _LanguageLoader(BaseLoader):
    """The app's loader, asked for a template by its own name; BaseLoader.load then compiles (and the environment
    caches) it under the name with its language."""

    def __init__(self, loader):
        self.loader = loader

    def get_source(self, environment, template):
        return self.loader.get_source(environment, own_name(template))

    def list_templates(self):
        return self.loader.list_templates()


def _in_language(name: str, parent) -> str:
    if language_of(name) is not None:
        return name
    language = language_of(parent) if isinstance(parent, str) else None
    language = language or str(get_locale() or "")
    return f"{language}{_SEPARATOR}{name}" if language else name


def language_of(name) -> str | None:
    if not isinstance(name, str) or _SEPARATOR not in name:
        return None
    return name.split(_SEPARATOR, 1)[0] or None


def own_name(name: str) -> str:
    return name.split(_SEPARATOR, 1)[1] if _SEPARATOR in name else name


def binds_translation_names(template: nodes.Template) -> bool:
    """Whether the template gives `_` or `gettext` a meaning of its own: set, for, with, a macro's parameter, an
    import. (A name bound in another file, a parent's `set` or an includer's loop, or passed to the render is not seen
    here: no template or render does so, which tests/unit/test_template_language.py keeps true.)"""
    bound = {n.name for n in template.find_all(nodes.Name) if n.ctx != "load"}
    bound |= {n.target for n in template.find_all(nodes.Import)}
    for node in template.find_all(nodes.FromImport):
        bound |= {name[1] if isinstance(name, tuple) else name for name in node.names}
    return bool(bound & set(_TRANSLATED_NAMES))


def translate_literals(template: nodes.Template, language: str) -> nodes.Template:
    """`template` with every literal `_()`/`gettext()` call replaced by its text in `language` (see the module)."""
    if binds_translation_names(template):
        return template  # something here is named `_`: its calls are not ours to read
    with force_locale(language):
        translations = get_translations()
    return _Translator(translations).visit(template)


class _Translator(NodeTransformer):
    def __init__(self, translations):
        self.translations = translations

    def visit_Call(self, node: nodes.Call):
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in _TRANSLATED_NAMES
                and len(node.args) == 1 and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str) and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        text = self.translations.ugettext(node.args[0].value)
        if node.kwargs:
            try:
                text % {kw.key: "" for kw in node.kwargs}  # noqa: B018 - would the render's `%` work?
            except (KeyError, TypeError, ValueError):
                return node
            # Markup % values escapes the values (where the template escapes), as templating.gettext does
            values = nodes.Dict([nodes.Pair(nodes.Const(kw.key), kw.value) for kw in node.kwargs])
            return nodes.Mod(nodes.MarkSafeIfAutoescape(nodes.Const(text)), values, lineno=node.lineno)
        try:
            text = text % {}  # newstyle gettext formats even without values: "%%" is "%"
        except (KeyError, TypeError, ValueError):
            return node
        return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)
