"""Finding strings a person reads that never reach the translation catalogs.

``pybabel extract`` sees only strings wrapped in a marker (``_``,
``gettext``, ``N_``, ...); a bare literal handed to ``flash`` or to a
refusal goes out in English on a Korean page, and no catalog test notices.
This module reads the source with :mod:`ast` (nothing is imported or run)
and reports every bare string literal, or f-string, that reaches a place a
person reads:

* the message of a refusal (``adminapp.errors.Refused`` and every subclass
  defined in the scanned code; which argument is the message is read from
  the class's own ``__init__``) and a refusal class's ``title``;
* ``flash``, ``error_response``'s message and title, ``abort``'s
  description, ``.errors.append``, ``ValidationError``;
* WTForms validators' ``message`` and fields' labels and descriptions,
  ``SelectChoice`` labels, a blueprint's ``nav`` label;
* any ``message=``, ``title=``, ``subject=``, ``warning=``, ``description=``
  or ``label=`` keyword (``jsonify``, ``render_template``, emails), and the
  ``"message"`` key of a dict passed to ``jsonify``.

A value counts as marked when it is a marker call, or a name bound to one;
a name bound to a bare literal (in the same function, the module, or the
module it is imported from) is followed and reported at its literal. A
marker whose argument ``pybabel`` cannot read (``_(f"...")``,
``N_(a + b)``) is reported too.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

# Calls that mark (and, but for N_, translate) their argument.
MARKERS = frozenset(
    {
        "N_",
        "_",
        "gettext",
        "_l",
        "lazy_gettext",
        "ngettext",
        "lazy_ngettext",
        "pgettext",
        "lazy_pgettext",
        "npgettext",
    }
)
# Markers that only mark: their argument must be a literal pybabel can read.
_LITERAL_ONLY = frozenset({"N_", "_l", "lazy_gettext", "ngettext", "lazy_ngettext"})
# Keywords whose value a person reads, whatever the call.
READ_KEYWORDS = frozenset({"message", "title", "subject", "warning", "description", "label"})
# Plain calls: the positional index and keyword of each argument a person reads.
CALL_SINKS: dict[str, tuple[tuple[int, str], ...]] = {
    "flash": ((0, "message"),),
    "error_response": ((1, "message"), (3, "title")),
    "abort": ((1, "description"),),
    "ValidationError": ((0, "message"),),
    "StopValidation": ((0, "message"),),
    "SelectChoice": ((1, "label"),),
    # adminapp.i18n_marks.Message: a message composed before its reader is known.
    "Message": ((0, "template"),),
}
REFUSED = "Refused"


class Finding(NamedTuple):
    path: str  # relative to the scanned root
    line: int
    text: str  # the literal (an f-string's source)
    where: str  # what reads it: "flash message", "Conflict message", ...

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r} ({self.where})"


def _werkzeug_sinks() -> dict[str, tuple[tuple[int, str], ...]]:
    """``raise BadRequest("...")``: the error pages show a view's own
    description (adminapp/web/error_pages.py)."""
    import werkzeug.exceptions

    return {
        name: ((0, "description"),)
        for name, thing in vars(werkzeug.exceptions).items()
        if inspect.isclass(thing) and issubclass(thing, werkzeug.exceptions.HTTPException)
    }


def _wtforms_sinks() -> dict[str, tuple[tuple[int, str], ...]]:
    """Validators' ``message`` and fields' ``label``/``description``, by
    position, from WTForms' own signatures (so a new validator is covered)."""
    import wtforms.fields
    import wtforms.validators

    sinks: dict[str, tuple[tuple[int, str], ...]] = {}
    for name, thing in vars(wtforms.validators).items():
        if not callable(thing) or name.startswith("_"):
            continue
        try:
            parameters = list(inspect.signature(thing).parameters)
        except (TypeError, ValueError):
            continue
        if "message" in parameters:
            sinks[name] = ((parameters.index("message"), "message"),)
    for name, thing in vars(wtforms.fields).items():
        if inspect.isclass(thing) and issubclass(thing, wtforms.fields.Field):
            sinks[name] = ((0, "label"), (-1, "description"))
    return sinks


def _name_of(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _on_a_literal(func: ast.expr) -> bool:
    """``"text".format``, ``f"text".strip``: a method of a string literal."""
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant | ast.JoinedStr)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if 0 <= index < len(call.args) and not any(
        isinstance(a, ast.Starred) for a in call.args[: index + 1]
    ):
        return call.args[index]
    return None


class _Module:
    """One parsed file: its assignments by scope, and its imports."""

    def __init__(self, root: Path, path: Path):
        self.path = path
        self.relative = path.relative_to(root).as_posix()
        parts = path.relative_to(root).with_suffix("").parts
        # The package relative imports start from (for __init__.py, its own).
        self.package = parts[:-1]
        self.dotted = ".".join(parts if parts[-1] != "__init__" else parts[:-1])
        self.source = path.read_text(encoding="utf-8")
        self.tree = ast.parse(self.source, str(path))
        # Walked once: every node, and each node's parent.
        self.nodes: list[ast.AST] = list(ast.walk(self.tree))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in self.nodes:
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        # scope node -> name -> values assigned to it in that scope
        self.assigned: dict[ast.AST, dict[str, list[ast.expr]]] = {}
        self.parameters: dict[ast.AST, set[str]] = {}
        # local name -> (absolute module, original name)
        self.imports: dict[str, tuple[str, str]] = {}
        for node in self.nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is None:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name):
                        scope = self.scope_of(node)
                        self.assigned.setdefault(scope, {}).setdefault(target.id, []).append(
                            node.value
                        )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                names = {a.arg for a in (*node.args.posonlyargs, *node.args.args)}
                names |= {a.arg for a in node.args.kwonlyargs}
                names |= {a.arg for a in (node.args.vararg, node.args.kwarg) if a}
                self.parameters[node] = names
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.package[: len(self.package) - (node.level - 1)]
        return ".".join((*package, *([node.module] if node.module else [])))

    def scope_of(self, node: ast.AST) -> ast.AST:
        """The function (or the module) whose names ``node`` sees first;
        class bodies are skipped, as Python skips them for methods."""
        parent = self.parents.get(node)
        while parent is not None and not isinstance(
            parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.Module
        ):
            parent = self.parents.get(parent)
        return parent if parent is not None else self.tree

    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, ast.ClassDef):
            parent = self.parents.get(parent)
        return parent


@dataclass
class _RefusalClass:
    name: str
    bases: tuple[str, ...]
    node: ast.ClassDef
    module: _Module


class MessageScanner:
    """Scan the ``.py`` files under ``folders`` of ``root``."""

    def __init__(self, root: Path, folders: Iterable[str]):
        self.root = root
        self.modules = [
            _Module(root, path)
            for folder in folders
            for path in sorted((root / folder).rglob("*.py"))
            if ".venv" not in path.parts and "node_modules" not in path.parts
        ]
        self._by_dotted = {module.dotted: module for module in self.modules}
        self.sinks = {**_wtforms_sinks(), **CALL_SINKS}
        self.http_errors = _werkzeug_sinks()
        self.refusals = self._refusal_classes()
        self._message_slot_cache: dict[str, tuple[int, str] | None] = {}
        # function node -> (position, keyword, what reads it) of parameters
        # it hands to what a person reads (see _follow_parameters)
        self.derived: dict[ast.AST, set[tuple[int, str, str]]] = {}

    # -- the refusal family -------------------------------------------------

    def _refusal_classes(self) -> dict[str, _RefusalClass]:
        classes: dict[str, list[_RefusalClass]] = {}
        for module in self.modules:
            for node in module.nodes:
                if isinstance(node, ast.ClassDef):
                    bases = tuple(filter(None, (_name_of(base) for base in node.bases)))
                    bases = tuple(module.imports.get(b, ("", b))[1] for b in bases)
                    classes.setdefault(node.name, []).append(
                        _RefusalClass(node.name, bases, node, module)
                    )
        family = {REFUSED}
        grew = True
        while grew:
            grew = False
            for name, defined in classes.items():
                if name not in family and any(set(c.bases) & family for c in defined):
                    family.add(name)
                    grew = True
        found = {}
        for name in family:
            defined = classes.get(name, [])
            if len(defined) > 1:
                raise AssertionError(
                    f"{name} is defined twice ({', '.join(c.module.relative for c in defined)}): "
                    "the scan tells refusal classes apart by name"
                )
            if defined:
                found[name] = defined[0]
        return found

    @staticmethod
    def _init_of(cls: _RefusalClass) -> ast.FunctionDef | None:
        for item in cls.node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return item
        return None

    def message_slot(self, name: str) -> tuple[int, str] | None:
        """Where a refusal class takes its message: (position, keyword), or
        None when the class writes its message itself."""
        if name not in self._message_slot_cache:
            self._message_slot_cache[name] = self._find_message_slot(name)
        return self._message_slot_cache[name]

    def _find_message_slot(self, name: str) -> tuple[int, str] | None:
        cls = self.refusals[name]
        init = self._init_of(cls)
        if init is None:
            parent = next((b for b in cls.bases if b in self.refusals), None)
            return self.message_slot(parent) if parent else None
        positional = [a.arg for a in (*init.args.posonlyargs, *init.args.args)][1:]
        keywords = positional + [a.arg for a in init.args.kwonlyargs]
        # The parameter that this __init__ hands on as its parent's message.
        parent = next((b for b in cls.bases if b in self.refusals), None)
        handed = None
        if parent is not None:
            for call in ast.walk(init):
                if isinstance(call, ast.Call) and self._is_super_init(call):
                    slot = self.message_slot(parent)
                    value = _argument(call, *slot) if slot else None
                    if isinstance(value, ast.Name) and value.id in keywords:
                        handed = value.id
        chosen = handed or ("message" if "message" in keywords else None)
        if chosen is None:
            return None
        index = positional.index(chosen) if chosen in positional else -1
        return index, chosen

    @staticmethod
    def _is_super_init(call: ast.Call) -> bool:
        func = call.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and _name_of(func.value.func) == "super"
        )

    # -- following a value to its literals -----------------------------------

    def bare_literals(self, module: _Module, expr: ast.expr) -> Iterator[tuple[_Module, ast.expr]]:
        """The unmarked literals with letters that ``expr`` is made of."""
        for part in self._parts(module, expr, frozenset()):
            if part[0] == "literal":
                yield part[1], part[2]

    def _parts(self, module: _Module, expr: ast.expr, seen: frozenset) -> Iterator[tuple]:
        """What ``expr`` is made of: ("literal", module, node) for an
        unmarked literal with letters, ("parameter", module, function, name)
        for a parameter of the function it is read in (its callers decide)."""
        if isinstance(expr, ast.Constant):
            if isinstance(expr.value, str) and _has_letters(expr.value):
                yield "literal", module, expr
        elif isinstance(expr, ast.JoinedStr):
            literal = "".join(part.value for part in expr.values if isinstance(part, ast.Constant))
            if _has_letters(literal):
                yield "literal", module, expr
            for part in expr.values:
                if isinstance(part, ast.FormattedValue):
                    yield from self._parts(module, part.value, seen)
        elif isinstance(expr, ast.BinOp):
            yield from self._parts(module, expr.left, seen)
            if not isinstance(expr.op, ast.Mod):  # "%" takes values, not text
                yield from self._parts(module, expr.right, seen)
        elif isinstance(expr, ast.IfExp):
            yield from self._parts(module, expr.body, seen)
            yield from self._parts(module, expr.orelse, seen)
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                yield from self._parts(module, value, seen)
        elif isinstance(expr, ast.Call):
            if _name_of(expr.func) in MARKERS:
                return
            # "text {}".format(...), "text".strip(): the text is the receiver.
            if isinstance(expr.func, ast.Attribute):
                yield from self._parts(module, expr.func.value, seen)
        elif isinstance(expr, ast.Subscript):
            # MESSAGES[key]: every value of the dict (or item of the sequence).
            for owner, value in self._values_of(module, expr.value, seen):
                items = (
                    value.values
                    if isinstance(value, ast.Dict)
                    else value.elts
                    if isinstance(value, ast.List | ast.Tuple)
                    else []
                )
                for item in items:
                    yield from self._parts(owner, item, seen)
        elif isinstance(expr, ast.Name):
            key = (module.relative, expr.id, id(module.scope_of(expr)))
            if key in seen:
                return
            bindings = self._bindings(module, expr)
            if bindings is None:
                yield "parameter", module, self._defining_scope(module, expr), expr.id
                return
            for owner, value in bindings:
                yield from self._parts(owner, value, seen | {key})

    def _values_of(self, module, expr, seen):
        if not isinstance(expr, ast.Name):
            yield module, expr
        elif (module.relative, expr.id, id(module.scope_of(expr))) not in seen:
            yield from self._bindings(module, expr) or ()

    @staticmethod
    def _defining_scope(module: _Module, name: ast.Name) -> ast.AST:
        scope = module.scope_of(name)
        while name.id not in module.parameters.get(scope, ()):
            scope = module.scope_of(scope)
        return scope

    def _bindings(self, module: _Module, name: ast.Name) -> list[tuple[_Module, ast.expr]] | None:
        """What ``name`` may hold where it is read: the innermost scope that
        assigns it, else the module, else the module it is imported from;
        None when it is a parameter of the function that reads it."""
        scope = module.scope_of(name)
        while True:
            values = module.assigned.get(scope, {}).get(name.id)
            if values:
                return [(module, value) for value in values]
            if name.id in module.parameters.get(scope, ()):
                return None
            if scope is module.tree:
                break
            scope = module.scope_of(scope)
        if name.id in module.imports:
            dotted, original = module.imports[name.id]
            source = self._by_dotted.get(dotted)
            if source is not None:
                values = source.assigned.get(source.tree, {}).get(original, [])
                return [(source, value) for value in values]
        return []

    # -- the scan ------------------------------------------------------------

    def findings(self) -> list[Finding]:
        """Every unmarked string a person reads, once each (the first way
        found to reach a reader is named)."""
        self._follow_parameters()
        found: dict[tuple, Finding] = {}
        for module in self.modules:
            for where, expr in self._read_values(module):
                for owner, literal in self.bare_literals(module, expr):
                    finding = self._finding(owner, literal, where)
                    found.setdefault(finding[:3], finding)
            for call in module.nodes:
                if isinstance(call, ast.Call):
                    for finding in self._unreadable_marker(module, call):
                        found.setdefault(finding[:3], finding)
        return sorted(found.values())

    def _follow_parameters(self) -> None:
        """A function that hands a parameter to what a person reads
        (``def _done(message): flash(message)``) makes that parameter read
        too: its callers' arguments are checked. Until nothing new is found."""
        grew = True
        while grew:
            grew = False
            for module in self.modules:
                for where, expr in self._read_values(module):
                    for part in self._parts(module, expr, frozenset()):
                        if part[0] != "parameter" or isinstance(part[2], ast.Lambda):
                            continue
                        _, owner, function, name = part
                        slot = self._parameter_slot(owner, function, name)
                        if slot is None:
                            continue
                        sinks = self.derived.setdefault(function, set())
                        if not any(s[:2] == slot for s in sinks):
                            sinks.add((*slot, f"{function.name}() {name}, then {where}"))
                            grew = True

    @staticmethod
    def _parameter_slot(module: _Module, function, name: str) -> tuple[int, str] | None:
        arguments = function.args
        positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
        if isinstance(module.parents.get(function), ast.ClassDef) and positional:
            positional = positional[1:]  # self or cls
        if name in positional:
            return positional.index(name), name
        if name in {a.arg for a in arguments.kwonlyargs}:
            return -1, name
        return None  # *args, **kwargs: not followed

    def _function_called(self, module: _Module, call: ast.Call):
        """The function of the scanned code that ``call`` runs, when plain to
        see: a module-level function (here or imported) or ``self.method``."""
        func = call.func
        if isinstance(func, ast.Name):
            for item in module.tree.body:
                if isinstance(item, ast.FunctionDef) and item.name == func.id:
                    return item
            if func.id in module.imports:
                dotted, original = module.imports[func.id]
                source = self._by_dotted.get(dotted)
                for item in source.tree.body if source else ():
                    if isinstance(item, ast.FunctionDef) and item.name == original:
                        return item
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            cls = module.enclosing_class(call)
            for item in cls.body if cls else ():
                if isinstance(item, ast.FunctionDef) and item.name == func.attr:
                    return item
        return None

    def _finding(self, module: _Module, literal: ast.expr, where: str) -> Finding:
        text = (
            literal.value
            if isinstance(literal, ast.Constant)
            else ast.get_source_segment(module.source, literal) or ""
        )
        return Finding(module.relative, literal.lineno, text, where)

    def _unreadable_marker(self, module: _Module, call: ast.Call) -> Iterator[Finding]:
        name = _name_of(call.func)
        if name not in MARKERS or not call.args:
            return
        count = 2 if name.endswith("ngettext") else 1
        first = 1 if name.startswith(("pgettext", "lazy_pgettext", "npgettext")) else 0
        for arg in call.args[first : first + count]:
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            # gettext(NAME) translates a string marked elsewhere; N_ and the
            # lazy forms must hold the literal itself.
            passed_on = (
                name not in _LITERAL_ONLY
                and isinstance(arg, ast.Name | ast.Attribute | ast.Subscript | ast.Call)
                and not (isinstance(arg, ast.Call) and _on_a_literal(arg.func))
            )
            if not literal and not passed_on:
                yield Finding(
                    module.relative,
                    arg.lineno,
                    ast.get_source_segment(module.source, arg) or "",
                    f"{name}() argument pybabel cannot extract",
                )

    def _read_values(self, module: _Module) -> Iterator[tuple[str, ast.expr]]:
        """Every (what reads it, value) in ``module`` that a person reads."""
        for node in module.nodes:
            if isinstance(node, ast.Call):
                yield from self._call_values(module, node)
            elif isinstance(node, ast.ClassDef) and node.name in self.refusals:
                yield from self._class_values(node)

    def _class_values(self, node: ast.ClassDef) -> Iterator[tuple[str, ast.expr]]:
        for item in node.body:
            targets = (
                item.targets
                if isinstance(item, ast.Assign)
                else [item.target]
                if isinstance(item, ast.AnnAssign) and item.value is not None
                else []
            )
            if any(isinstance(t, ast.Name) and t.id == "title" for t in targets):
                yield f"{node.name}.title", item.value
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                slot = self.message_slot(node.name)
                if slot is None:
                    continue
                arguments = item.args
                positional = [*arguments.posonlyargs, *arguments.args]
                defaults = dict(
                    zip(
                        [a.arg for a in positional[len(positional) - len(arguments.defaults) :]],
                        arguments.defaults,
                        strict=True,
                    )
                )
                defaults.update(
                    (a.arg, d)
                    for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                    if d is not None
                )
                if slot[1] in defaults:
                    yield f"{node.name} default message", defaults[slot[1]]

    def _call_values(self, module: _Module, call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
        name = _name_of(call.func)
        origin, original = module.imports.get(name, ("", name)) if name else ("", None)
        if origin == "werkzeug.exceptions" and original in self.http_errors:
            value = _argument(call, *self.http_errors[original][0])
            if value is not None:
                yield f"{name} description", value
            return
        for keyword in call.keywords:
            if keyword.arg in READ_KEYWORDS:
                yield f"{name}({keyword.arg}=)", keyword.value
            nav = keyword.arg == "nav" and isinstance(keyword.value, ast.Tuple | ast.List)
            if nav and keyword.value.elts:
                yield "navigation label", keyword.value.elts[0]
        if original in self.sinks:
            for index, keyword in self.sinks[original]:
                value = _argument(call, index, keyword)
                if value is not None:
                    yield f"{name} {keyword}", value
        if original == "append" and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "errors" and call.args:
                yield "form error", call.args[0]
        if original == "jsonify":
            for arg in call.args:
                if isinstance(arg, ast.Dict):
                    for key, value in zip(arg.keys, arg.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value in READ_KEYWORDS:
                            yield f"jsonify {key.value}", value
        function = self._function_called(module, call)
        for index, keyword, where in sorted(self.derived.get(function, ())):
            value = _argument(call, index, keyword)
            if value is not None:
                yield where, value
        refusal = self._refusal_called(module, call)
        if refusal is not None:
            slot = self.message_slot(refusal)
            value = _argument(call, *slot) if slot else None
            if value is not None:
                yield f"{refusal} message", value

    def _refusal_called(self, module: _Module, call: ast.Call) -> str | None:
        """The refusal class whose message this call sets, if any: a refusal
        made (``Conflict(...)``), or ``super().__init__`` in a refusal class."""
        if self._is_super_init(call):
            cls = module.enclosing_class(call)
            if cls is not None and cls.name in self.refusals:
                return next((b for b in self.refusals[cls.name].bases if b in self.refusals), None)
            return None
        name = _name_of(call.func)
        original = module.imports.get(name, ("", name))[1] if name else None
        return original if original in self.refusals else None
