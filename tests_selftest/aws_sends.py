"""What code can send to AWS, read from its syntax (no import, no call made).

It finds, as `service:Operation` (the API's names, from botocore's service model):

- `fetch.call(service, region, "op", ...)`, `.pages(...)`, `.all_pages(...)` (the
  collectors' Fetcher, reached as `ctx.fetch` or `fetch`);
- on a client (`x = something.client("svc", ...)`, or `something.client("svc")` itself):
  every operation method, called or passed on (`rds.describe_db_instances`),
  `get_paginator("op")` and `get_waiter("name")` (the waiter's operation);
- through the functions it calls, in the same module, nested, as a method of `self`,
  or imported from the project (`readiness.*`, `deploy_steps.*`), with the strings
  passed to their parameters (`token_pages(ctx, "synthetics", region,
  "get_canary_runs", ...)`), and through nested functions handed on as callbacks.

Whatever it cannot resolve (a service or operation that is not a string it can follow,
an unknown operation name) is a problem, never a silent gap.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore import xform_name

REPO = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("readiness", "deploy_steps")
FETCH_METHODS = frozenset({"call", "pages", "all_pages"})
CLIENT_NON_OPERATIONS = frozenset(
    {
        "can_paginate",
        "close",
        "exceptions",
        "generate_presigned_post",
        "generate_presigned_url",
        "get_paginator",
        "get_waiter",
        "meta",
        "waiter_names",
    }
)
Function = ast.FunctionDef | ast.AsyncFunctionDef


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def api_names(service: str) -> dict[str, str]:
    """snake_case method name -> API operation name (as a client's method_to_api_mapping)."""
    model = _session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


@functools.cache
def waiter_operation(service: str, waiter: str) -> str | None:
    try:
        model = _session().get_waiter_model(service)
    except Exception:
        return None
    names = {xform_name(name): name for name in model.waiter_names}
    if waiter not in names:
        return None
    return str(model.get_waiter(names[waiter]).operation)


@dataclass
class Module:
    label: str
    tree: ast.Module
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, dict[str, Function]] = field(default_factory=dict)
    imports: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, path: Path) -> Module:
        label = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
        module = cls(label, ast.parse(path.read_text(encoding="utf-8"), filename=label))
        for node in module.tree.body:
            if isinstance(node, Function):
                module.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                module.classes[node.name] = {
                    n.name: n for n in node.body if isinstance(n, Function)
                }
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    module.imports[alias.asname or alias.name] = (node.module, alias.name)
        return module


@dataclass(frozen=True)
class Scope:
    module: Module
    defs: Mapping[str, Function]  # nested functions visible here
    values: Mapping[str, str]  # names known to hold a string (parameters bound at a call)
    clients: Mapping[str, str]  # names known to hold a client of a service
    klass: str | None = None


@dataclass
class Analysis:
    """Every `service:Operation` found, and what could not be resolved."""

    sends: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    _modules: dict[str, Module] = field(default_factory=dict)
    _seen: set[tuple[object, ...]] = field(default_factory=set)
    _returning: set[int] = field(default_factory=set)

    # -- modules and entry points --------------------------------------------------

    def module(self, dotted: str) -> Module | None:
        if dotted.split(".", 1)[0] not in PROJECT_PACKAGES:
            return None
        if dotted not in self._modules:
            base = REPO.joinpath(*dotted.split("."))
            path = base.with_suffix(".py")
            if not path.is_file():
                path = base / "__init__.py"
            if not path.is_file():
                return None
            self._modules[dotted] = Module.parse(path)
        return self._modules[dotted]

    def function(self, module: Module, name: str) -> None:
        """One top-level function of `module`, its parameters unknown."""
        self._analyse(module.functions[name], Scope(module, {}, {}, {}))

    def everything(self, module: Module) -> None:
        """Every function and method of `module`, their parameters unknown."""
        for fn in module.functions.values():
            self._analyse(fn, Scope(module, {}, {}, {}))
        for klass, methods in module.classes.items():
            for fn in methods.values():
                self._analyse(fn, Scope(module, {}, {}, {}, klass))

    # -- the walk ------------------------------------------------------------------

    def _problem(self, scope: Scope, node: ast.AST, what: str) -> None:
        self.problems.append(f"{scope.module.label}:{getattr(node, 'lineno', '?')}: {what}")

    def _add(self, scope: Scope, node: ast.AST, service: str | None, method: str | None) -> None:
        if service is None or method is None:
            self._problem(scope, node, "cannot tell which service or operation this sends")
            return
        try:
            names = api_names(service)
        except Exception:
            self._problem(scope, node, f"{service!r} is not an AWS service botocore knows")
            return
        if method not in names:
            self._problem(scope, node, f"{service} has no operation {method!r}")
            return
        self.sends.add(f"{service}:{names[method]}")

    @staticmethod
    def _nodes(fn: Function | ast.Lambda) -> Iterator[ast.AST]:
        """Every node of the body; a nested function or class is given, not entered."""
        body: list[ast.AST] = [fn.body] if isinstance(fn, ast.Lambda) else list(fn.body)
        stack = list(reversed(body))
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Function | ast.ClassDef):
                continue
            stack.extend(reversed(list(ast.iter_child_nodes(node))))

    def _analyse(self, fn: Function, scope: Scope) -> None:
        key = (id(fn), tuple(sorted(scope.values.items())), tuple(sorted(scope.clients.items())))
        if key in self._seen:
            return
        self._seen.add(key)
        nodes = list(self._nodes(fn))
        nested = {n.name: n for n in nodes if isinstance(n, Function)}
        inner = Scope(scope.module, {**scope.defs, **nested}, scope.values, {}, scope.klass)
        clients = self._clients(nodes, inner, dict(scope.clients))
        values = dict(inner.values)
        for node in nodes:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                values[node.targets[0].id] = node.value.value
        inner = Scope(inner.module, inner.defs, values, clients, inner.klass)
        called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
        called |= {id(n.args[0]) for n in nodes if isinstance(n, ast.Call) and _partial_of(n)}
        for node in nodes:
            if isinstance(node, ast.Call):
                self._call(node, inner)
            elif isinstance(node, ast.Attribute):
                self._attribute(node, inner)
            elif (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and id(node) not in called
            ):
                # A function handed on (a callback): analysed with what it closes over.
                target = self._resolve(node.id, inner)
                if target is not None:
                    self._analyse(*target)

    def _clients(self, nodes: list[ast.AST], scope: Scope, known: dict[str, str]) -> dict[str, str]:
        """Names assigned a client in these nodes, added to `known`."""
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                service = self._client_of(node.value, scope)
                for target in targets:
                    if isinstance(target, ast.Name) and service is not None:
                        known[target.id] = service
        return known

    def _returned_client(self, fn: Function, scope: Scope) -> str | None:
        """The service of the client a function returns, if it returns one."""
        if id(fn) in self._returning:  # a recursive function: asked already
            return None
        self._returning.add(id(fn))
        try:
            return self._returned_client_of(fn, scope)
        finally:
            self._returning.discard(id(fn))

    def _returned_client_of(self, fn: Function, scope: Scope) -> str | None:
        nodes = list(self._nodes(fn))
        inner = Scope(scope.module, scope.defs, scope.values, {}, scope.klass)
        inner = Scope(
            scope.module, scope.defs, scope.values, self._clients(nodes, inner, {}), scope.klass
        )
        for node in nodes:
            if isinstance(node, ast.Return) and node.value is not None:
                service = self._client_of(node.value, inner)
                if service is not None:
                    return service
        return None

    # -- what a node sends -----------------------------------------------------------

    @staticmethod
    def _string(node: ast.expr | None, scope: Scope) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return scope.values.get(node.id)
        return None

    @staticmethod
    def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
        if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args):
            return call.args[index]
        return next((k.value for k in call.keywords if k.arg == keyword), None)

    def _client_of(self, node: ast.expr, scope: Scope) -> str | None:
        """The service of a client expression (a name bound to one, or `x.client("svc")`)."""
        if isinstance(node, ast.Name):
            return scope.clients.get(node.id)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "client"
        ):
            service = self._string(self._argument(node, 0, "service_name"), scope)
            if service is None:
                self._problem(scope, node, "a client of a service that cannot be told")
            return service
        if isinstance(node, ast.Call):  # a function of the project that returns a client
            target = self._callee(node.func, scope)
            if target is not None:
                fn, callee = target
                return self._returned_client(fn, self._bind(fn, node, scope, callee))
        return None

    def _attribute(self, node: ast.Attribute, scope: Scope) -> None:
        service = self._client_of(node.value, scope)
        if service is None or node.attr in CLIENT_NON_OPERATIONS or node.attr.startswith("_"):
            return
        self._add(scope, node, service, node.attr)

    def _call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in FETCH_METHODS and _is_fetcher(func.value):
                service = self._string(self._argument(node, 0, "service"), scope)
                method = self._string(self._argument(node, 2, "operation"), scope)
                self._add(scope, node, service, method)
                return
            service = self._client_of(func.value, scope)
            if service is not None and func.attr == "get_paginator":
                self._add(scope, node, service, self._string(self._argument(node, 0, ""), scope))
                return
            if service is not None and func.attr == "get_waiter":
                waiter = self._string(self._argument(node, 0, ""), scope)
                operation = waiter_operation(service, waiter) if waiter else None
                if operation is None:
                    self._problem(scope, node, f"{service} waiter {waiter!r} is unknown")
                else:
                    self.sends.add(f"{service}:{operation}")
                return
        if _partial_of(node):
            node = ast.Call(func=node.args[0], args=node.args[1:], keywords=node.keywords)
            ast.copy_location(node, node.func)
            func = node.func
        target = self._callee(func, scope)
        if target is None:
            return
        fn, callee_scope = target
        self._analyse(fn, self._bind(fn, node, scope, callee_scope))

    def _callee(self, func: ast.expr, scope: Scope) -> tuple[Function, Scope] | None:
        if isinstance(func, ast.Name):
            return self._resolve(func.id, scope)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "self"
            and scope.klass is not None
        ):
            method = scope.module.classes.get(scope.klass, {}).get(func.attr)
            if method is not None:
                return method, Scope(scope.module, {}, {}, {}, scope.klass)
        return None

    def _resolve(self, name: str, scope: Scope) -> tuple[Function, Scope] | None:
        if name in scope.defs:  # nested: sees what its enclosing function sees
            return scope.defs[name], scope
        if name in scope.module.functions:
            return scope.module.functions[name], Scope(scope.module, {}, {}, {})
        if name in scope.module.imports:
            dotted, original = scope.module.imports[name]
            module = self.module(dotted)
            if module is not None and original in module.functions:
                return module.functions[original], Scope(module, {}, {}, {})
        return None

    def _bind(self, fn: Function, call: ast.Call, caller: Scope, callee: Scope) -> Scope:
        """The callee's scope with its parameters bound to the strings the call passes."""
        params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        if callee.klass is not None and params and params[0] == "self":
            params = params[1:]
        every = params + [a.arg for a in fn.args.kwonlyargs]
        for extra in (fn.args.vararg, fn.args.kwarg):
            if extra is not None:
                every.append(extra.arg)
        values = {k: v for k, v in callee.values.items() if k not in every}
        for param, arg in zip(params, call.args, strict=False):
            if isinstance(arg, ast.Starred):
                break
            value = self._string(arg, caller)
            if value is not None:
                values[param] = value
        for keyword in call.keywords:
            if keyword.arg in every:
                value = self._string(keyword.value, caller)
                if value is not None:
                    values[keyword.arg] = value
        clients = {k: v for k, v in callee.clients.items() if k not in every}
        return Scope(callee.module, callee.defs, values, clients, callee.klass)


def _is_fetcher(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "fetch") or (
        isinstance(node, ast.Attribute) and node.attr == "fetch"
    )


def _partial_of(call: ast.Call) -> bool:
    """`functools.partial(fn, ...)`: a call of fn with those arguments, made later."""
    func = call.func
    named = (isinstance(func, ast.Name) and func.id == "partial") or (
        isinstance(func, ast.Attribute) and func.attr == "partial"
    )
    return named and bool(call.args)


def sends_of_function(dotted: str, name: str) -> Analysis:
    analysis = Analysis()
    module = analysis.module(dotted)
    assert module is not None, f"{dotted} is not a module of the project"
    analysis.function(module, name)
    return analysis


def sends_of_module(path: Path, only: str | None = None) -> Analysis:
    """Every function and method of a module (a project module or a check file), or
    only its top-level function `only`."""
    analysis = Analysis()
    module = Module.parse(path)
    if only is None:
        analysis.everything(module)
    else:
        analysis.function(module, only)
    return analysis
