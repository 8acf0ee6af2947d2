"""Mutation testing for cloudorch: does the test suite fail when the code is wrong?

Each mutant is one small change to one module (a comparison flipped, an operator swapped, a condition negated, a
constant tweaked, a statement or return value removed). The module's own tests run against it; a mutant the tests
do not fail on "survived" and marks a missing assertion -- or an equivalent change, which a person judges.

How it runs, and why this way rather than mutmut: mutmut 3 copies the sources into ``mutants/`` and could not
import this uv workspace's packages from there (it mutated nothing and its stats run failed). Here nothing on disk
changes: the mutated module is compiled in memory and served by an import hook at the front of ``sys.meta_path``.
A warm parent imports pytest and the heavy third-party packages once, then forks one child per mutant, so a mutant
costs its tests, not an interpreter start. Processes the tests spawn (``multiprocessing``, subprocesses) get the
same hook through a ``sitecustomize`` on ``PYTHONPATH``. Each child has a time limit; a mutant that hangs is
counted as killed by timeout.

    uv run python tools/mutation.py                     # the modules of issue 13 item 9, 2 workers
    uv run python tools/mutation.py cloudorch/engine/secrets.py --jobs 4
    uv run python tools/mutation.py --list cloudorch/engine/secrets.py    # the mutants, not run
    uv run python tools/mutation.py --show cloudorch/engine/secrets.py:7  # one mutant's diff

Not part of CI (it takes tens of minutes); see tools/README.md for the figures.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.abc
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = "CLOUDORCH_MUTANT"

#: module -> its tests in stages: the pointed, fast ones first, the broader ones only if those pass (pytest stops
#: at the first failure, and most mutants fail the first stage without collecting the rest)
PLACEMENT = (("tests/placement/test_objective.py", "tests/placement/test_constraints.py"),
             ("tests/placement",))
TARGETS: dict[str, tuple[tuple[str, ...], ...]] = {
    **{f"cloudorch/placement/{name}.py": PLACEMENT
       for name in ("milp", "candidates", "presolve", "problem", "dominance", "capability", "buckets")},
    "cloudorch/placement/planner.py": (*PLACEMENT, ("tests/test_examples.py",)),
    "cloudorch/placement/explain.py": (("tests/placement/test_explain.py",), ("tests/test_examples.py",)),
    "cloudorch/placement/infeasible.py": (("tests/placement/test_explain.py",),),
    "cloudorch/policy/engine.py": (("tests/policy/test_engine.py",), ("tests/policy", "tests/policies")),
    "cloudorch/spec/loader.py": (("tests/spec/test_loader.py",), ("tests/spec", "tests/cli/test_validate_schema.py")),
    **{f"providers/{cloud}/cloudorch_{cloud}/network.py": (
        (f"tests/providers/{cloud}",),
        ("tests/providers/test_contract.py", "tests/providers/test_baseline_findings.py"),
    ) for cloud in ("aws", "azure", "gcp")},
    "cloudorch/engine/locking.py": (("tests/engine/test_locking.py",), ("tests/engine", "tests/cli/test_engine_commands.py")),
    "cloudorch/engine/secrets.py": (("tests/engine/test_secrets.py",), ("tests/engine",)),
}
#: what a run with no module named covers: the modules whose survivors issue 13 (item 9) listed
DEFAULT = ("cloudorch/placement/milp.py", "cloudorch/placement/candidates.py", "cloudorch/policy/engine.py",
           "cloudorch/spec/loader.py", "providers/aws/cloudorch_aws/network.py", "cloudorch/engine/locking.py",
           "cloudorch/engine/secrets.py")
#: imported once by the parent so each forked child starts warm; never project modules (they must be mutated)
PRELOAD = ("pytest", "hypothesis", "pydantic", "numpy", "highspy", "yaml", "typer", "rich", "diskcache", "pulumi",
           "jsonschema")

#: survivors judged equivalent, by (module, line's source text, mutation) -> why; see tools/README.md
EQUIVALENT: dict[tuple[str, str, str], str] = {
    # secrets
    ("cloudorch/engine/secrets.py", "super().__init__()", "remove `super().__init__()`"):
        "logging.Filter.__init__ only sets the name that the inherited filter() matches on; filter() is overridden",
    ("cloudorch/engine/secrets.py", "if record.exc_info and record.exc_info[1] is not None:", "`1` -> `2`"):
        "exc_info is (type, value, traceback): value and traceback are both set by a raised exception or both None",
    # locking
    ("cloudorch/engine/locking.py", "return False", "return None"):
        "_is_stale's answers are only tested for truth; None and False are both false",
    ("cloudorch/engine/locking.py", "for _ in range(2):  # second attempt only after clearing a stale lock",
     "`2` -> `3`"):
        "a third attempt after clearing a stale lock twice: the same outcome, one more try (a bound, not a behaviour)",
    ("cloudorch/engine/locking.py", "raise LockHeld(held)", "remove `raise LockHeld(held)`"):
        "without it the next attempt meets the same live holder, and the line after the loop raises LockHeld",
    ("cloudorch/engine/locking.py", "return False", "`False` -> `True`"):
        "a put-back lock reported as broken: the next attempt finds the live holder and raises LockHeld",
    ("cloudorch/engine/locking.py", "if info.host != socket.gethostname() or info.pid <= 0:", "`<=` -> `<`"):
        "pid 0 (an unreadable lock) probed with kill(0, 0) signals our own process group, which is alive: not stale",
    ("cloudorch/engine/locking.py", "if info.host != socket.gethostname() or info.pid <= 0:", "`0` -> `1`"):
        "pid 1 is init, always alive: not stale either way",
    ("cloudorch/engine/locking.py", "return False  # os.kill(pid, 0) would terminate the process on Windows",
     "`False` -> `True`"): "the Windows branch; never reached on the Linux machines the tests run on",
    ("cloudorch/engine/locking.py", "return False  # os.kill(pid, 0) would terminate the process on Windows",
     "return None"): "the Windows branch; never reached on Linux (and None is as false as False)",
    ("cloudorch/engine/locking.py", "return False  # alive, owned by another user", "return None"):
        "_is_stale's answers are only tested for truth; None and False are both false",
    ("cloudorch/engine/locking.py", 'return ""', "return None"):
        "a vanished file's text: \"\" and None both fail to parse and give the same 'unknown' holder",
    ("cloudorch/engine/locking.py", "aside.unlink(missing_ok=True)", "`True` -> `False`"):
        "the file moved aside a moment ago exists; missing_ok never comes into play",
    ("cloudorch/engine/locking.py", "self.path.unlink(missing_ok=True)", "`True` -> `False`"):
        "release() unlinks only a lock it has just read; it can vanish in between only in a race no test stages",
    # policy engine
    ("cloudorch/policy/engine.py", "continue", "remove `continue`"):
        "merge_packs: without it a policy is compared with itself (same rule) and its pack is already an owner",
    # loader
    ("cloudorch/spec/loader.py",
     'raise SpecError([Problem(file, None, "", "file is empty")], hint="start from `stacks/webshop.yaml`")',
     "remove `raise SpecError([Problem(file, None, '', 'file is empty')], `"):
        "the blank-file check is repeated after parsing (an empty document is None) with the same message",
    ("cloudorch/spec/loader.py", 'if kind == "greater_than" and ctx.get("gt") == 0:', "`and` -> `or`"):
        "every greater-than constraint of the models is gt=0 (PositiveInt/PositiveFloat): the two tests agree",
    ("cloudorch/spec/loader.py", "lines: dict[Path, int] = field(default_factory=dict, compare=False, repr=False)",
     "`False` -> `True`"):
        "lines are derived from text, which is compared; repr is not output anywhere",
    ("cloudorch/spec/loader.py",
     "node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None",
     "`and` -> `or`"):
        "pydantic's error locations index only into containers it validated: a list index is always an int",
    ("cloudorch/spec/loader.py",
     "node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None",
     "`<` -> `<=`"):
        "pydantic never reports an index past the end of the list it validated",
    # AWS network
    ("providers/aws/cloudorch_aws/network.py", '"inlinePolicies": [{"name": "write-flow-logs", "policy": writer}],',
     "`'write-flow-logs'` -> `'write-flow-logsx'`"):
        "an inline policy's name is a label; nothing refers to it",
    ("providers/aws/cloudorch_aws/network.py",
     '"allocationId": ref(eip), "subnetId": ref(subnet_name(network, region, zones[0], "public")),', "`0` -> `1`"):
        "the NAT gateway may sit in any public subnet; every network has at least two zones",
    # placement: the solver's settings and its path for large models (exact either way)
    ("cloudorch/placement/milp.py", 'h.setOptionValue("threads", 1)', "remove `h.setOptionValue('threads', 1)`"):
        "one thread is for predictable timing; HiGHS's answer on these models does not depend on it",
    ("cloudorch/placement/milp.py", 'h.setOptionValue("random_seed", 0)', "remove `h.setOptionValue('random_seed', 0)`"):
        "0 is HiGHS's default seed",
    ("cloudorch/placement/milp.py", 'h.setOptionValue("mip_rel_gap", 1e-7)',
     "remove `h.setOptionValue('mip_rel_gap', 1e-07)`"):
        "the default gap (1e-4) stops early only on models with a real integrality gap, which no test model "
        "small enough to check by hand has; the benchmark measures the optimality gap",
    ("cloudorch/placement/milp.py", "GUIDED_COLUMNS = 20_000", "`20000` -> `20001`"):
        "a size threshold between two exact solution paths; the property tests run both",
    ("cloudorch/placement/milp.py", "self.integer.append(True)", "remove `self.integer.append(True)`"):
        "_Builder.integer is never read: integrality is set from the relax flag when the model is built",
    ("cloudorch/placement/milp.py", "incumbent.value_valid = True", "remove `incumbent.value_valid = True`"):
        "without it HiGHS ignores the warm start of the large-model path and searches from scratch: same optimum",
    ("cloudorch/placement/milp.py", "if relax or len(b.cost) <= GUIDED_COLUMNS:", "`or` -> `and`"):
        "small models then take the reduced-cost path, which is exact too (the property tests compare both paths)",
    ("cloudorch/placement/milp.py", "if region_cap < d.count and not needs_region_vars:", "`and` -> `or`"):
        "adds per-region caps that the region indicators (sum x <= cap * z) or the count already impose",
    ("cloudorch/placement/milp.py", "if region_cap < d.count and not needs_region_vars:", "`<` -> `<=`"):
        "a cap equal to the count adds rows the count already imposes",
    ("cloudorch/placement/problem.py",
     'if value is not None and (value > 1 if rule.startswith("min_") else value < self.count):', "`<` -> `<=`"):
        "lists a cap equal to the count as a group: it never binds, so it never joins a conflict",
    ("cloudorch/placement/milp.py", 'if d.min_clouds > 1 and on(f"{base}.spread.min_clouds"):', "`>` -> `>=`"):
        "a minimum of one cloud (or region, below) adds a constraint every placement meets",
    ("cloudorch/placement/milp.py", 'if d.min_regions > 1 and on(f"{base}.spread.min_regions"):', "`>` -> `>=`"):
        "as above",
    ("cloudorch/placement/milp.py",
     "b.row([c for c, _ in cs], [o.monthly_usd for _, o in cs], 0.0, problem.budget_monthly_usd)", "`0.0` -> `1.0`"):
        "a floor of $1/month under the in-model budget: every placement of at least one replica costs more",
    ("cloudorch/placement/milp.py", "self.b.row(*self.total(lambda o: o.monthly_usd), 0.0, self.problem.budget_monthly_usd)",
     "`0.0` -> `1.0`"): "as above (the same row after main's placement refactor)",
    ("cloudorch/placement/milp.py", "return None if result is None else result[1]", "`1` -> `2`"):
        "for the LP relaxation the 'bound' _run returns is the objective itself",
    ("cloudorch/placement/milp.py", "b.row([z, region_vars[t][g]], [1.0, 1.0], 0.0, 1.0)", "`1.0` -> `1.5`"):
        "the apart row's upper bound on a sum of two binaries: 1.5 allows what 1 allows",
    ("cloudorch/placement/milp.py", "slack = max(slack * 100, 1e-3 * max(1.0, abs(lower)) / max(1, lp.num_col_) ** 0.5)",
     "`100` -> `101`"): "how fast the large-model path widens its column filter; the solve stays exact",
    ("cloudorch/placement/milp.py", "if slack > float(np.max(rc, initial=0.0)):", "`0.0` -> `1.0`"):
        "only delays the large-model path's infeasible verdict until the filter has widened past every column",
    ("cloudorch/placement/milp.py",
     "if o.cloud == cloud and (not region or o.region == region) and k not in touches[d.name]:", "`and` -> `or`"):
        "links more demands into one MILP (and hands it quota keys no option of theirs meets: empty rows); "
        "splitting into components is only a speed-up of one exact solve",
    ("cloudorch/placement/milp.py", "@dataclass(frozen=True)", "`True` -> `False`"):
        "nothing assigns to a Demand; the placement code keys demands by name, never hashes them",
    ("cloudorch/placement/candidates.py", "@dataclass(frozen=True, slots=True)", "`True` -> `False`"):
        "nothing assigns to an Option or hashes one",
    ("cloudorch/placement/candidates.py",
     "vcpu_matters: bool = False) -> tuple[tuple[Option, ...], tuple[Exclusion, ...]]:", "`False` -> `True`"):
        "a default no caller uses: the planner always passes vcpu_matters",
    ("cloudorch/placement/candidates.py",
     "score = np.round(base * (0.95 if spot else 1.0) * (0.9**failures), 6)", "`6` -> `7`"):
        "the scores are products of 0.999/0.995/0.99, 0.95 and 0.9^k: six digits already separate every pair",
    ("cloudorch/placement/candidates.py",
     "options += prune_dominated(found, vcpu_matters=False)  # managed DBs do not count against VM quotas",
     "`False` -> `True`"): "keeps database classes that differ only in vCPUs; databases count against no quota, "
                           "so the optimum never picks one of them",
    ("cloudorch/placement/milp.py", 'if problem.budget_monthly_usd is not None and problem.objective != "cost":',
     "`is not` -> `is`"): "groups_of's budget group: the infeasibility analysis solves with the cost objective, "
                         "where the budget has no row, so listing the group or not never changes which constraints conflict",
    ("cloudorch/placement/milp.py", "if d.max_per_cloud is not None and d.max_per_cloud < d.count:", "`<` -> `<=`"):
        "lists a cap equal to the count as a group: it never binds, so it never joins a conflict",
    ("cloudorch/placement/milp.py",
     "final = _solve_model(lp, relax=False, upper=np.where(rc > gap + 1e-9 * max(1.0, abs(lower)), 0.0, upper),",
     "`max()` -> `min()`"): "a smaller tolerance on the large-model path's last filter still keeps every column "
                            "with reduced cost up to the gap: the solve stays exact",
    ("cloudorch/placement/milp.py", "os.close(saved)", "remove `os.close(saved)`"):
        "leaks one duplicated descriptor, once per process (the banner is silenced once)",
    ("cloudorch/placement/milp.py", 'h.setOptionValue("random_seed", 0)', "`0` -> `1`"):
        "the tie-break makes the optimum unique, so HiGHS's seed cannot change which placement is returned",
    ("cloudorch/placement/milp.py", "slack = 1e-9 * max(1.0, abs(lower))", "`1e-09` -> `1.5000000000000002e-09`"):
        "a tolerance of the large-model path's column filter; the filter only speeds up an exact solve",
    # (measured before main's placement refactor as milp.groups_of; the same lines now in Problem.groups)
    ("cloudorch/placement/problem.py", "if self.budget_in_model:", "negate the condition"):
        "Problem.groups' budget group: the infeasibility analysis solves with the cost objective, where the budget "
        "has no row, so listing the group or not never changes which constraints conflict",
    ("cloudorch/placement/problem.py", "out.append(BUDGET_GROUP)", "remove `out.append(BUDGET_GROUP)`"):
        "as above: the budget group never changes the analysis",
}


# --- generating mutants -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to the repository
    index: int
    line: int
    what: str  # "`<` -> `<=`"
    source: str  # the line as written

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.source.strip(), self.what)


_COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BINARY = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
           ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
           ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
           ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitOr: "|", ast.BitAnd: "&",
           ast.And: "and", ast.Or: "or"}
_CALLS = {"min": "max", "max": "min", "any": "all", "all": "any"}

#: a mutation: (node it applies to, description, function returning the replacement node or None to delete)
Point = tuple[ast.AST, str, Callable[[ast.AST], ast.AST | None]]


def _points(tree: ast.Module, strings: bool = False) -> Iterator[Point]:
    """Every mutation of ``tree``, in a fixed order (so an index names the same mutant in every process).

    ``strings``: also change string values of dict literals -- in a provider's rendering they are the resource
    inputs, the product itself; elsewhere they are mostly messages, whose wording no test should pin."""
    skip = _unmutated(tree)
    if strings:
        values = {id(v) for d in ast.walk(tree) if isinstance(d, ast.Dict) for v in d.values
                  if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                other = _COMPARE[type(op)]
                yield node, f"`{_SYMBOL[type(op)]}` -> `{_SYMBOL[other]}`", _replace_op(i, other)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINARY:
            other = _BINARY[type(node.op)]
            yield node, f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[other]}`", _swap_binary(other)
        elif isinstance(node, ast.BoolOp):
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[other]}`", _swap_boolop(other)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            yield node, f"drop `{'not' if isinstance(node.op, ast.Not) else '-'}`", lambda n: n.operand
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            new = _tweak(node.value)
            yield node, f"`{node.value!r}` -> `{new!r}`", lambda n, new=new: ast.copy_location(ast.Constant(new), n)
        elif strings and id(node) in values:
            yield node, f"`{node.value!r}` -> `{node.value + 'x'!r}`", \
                lambda n: ast.copy_location(ast.Constant(n.value + "x"), n)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
            other = _CALLS[node.func.id]
            yield node, f"`{node.func.id}()` -> `{other}()`", _rename_call(other)
        if isinstance(node, (ast.If, ast.While, ast.IfExp)) and not isinstance(node.test, (ast.Compare, ast.UnaryOp)):
            yield node, "negate the condition", _negate_test
        if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            yield node, "return None", lambda n: ast.copy_location(ast.Return(ast.Constant(None)), n)
        if _removable(node):
            yield node, f"remove `{ast.unparse(node).splitlines()[0][:60]}`", lambda n: None


def _unmutated(tree: ast.Module) -> set[int]:
    """Nodes no mutation may touch: docstrings, annotations, ``TYPE_CHECKING`` blocks, ``__future__``."""
    out: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            out.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            drop(body[0])
        if isinstance(node, ast.arg):
            drop(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            drop(node.returns)
        elif isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            drop(node)
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            drop(node)
    return out


def _tweak(value: int | float | bool) -> int | float | bool:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value * 1.5 if value else 1.0


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _removable(node: ast.AST) -> bool:
    """Statements whose removal leaves valid code that may run on: calls for effect, state updates, jumps."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Call)
    if isinstance(node, ast.Assign):
        return all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets)
    return isinstance(node, (ast.AugAssign, ast.Continue, ast.Break, ast.Raise))


def _replace_op(i: int, other: type) -> Callable[[ast.AST], ast.AST]:
    def apply(n: ast.Compare) -> ast.AST:
        n.ops[i] = other()
        return n
    return apply


def _swap_binary(other: type) -> Callable[[ast.AST], ast.AST]:
    def apply(n: ast.BinOp | ast.AugAssign) -> ast.AST:
        n.op = other()
        return n
    return apply


def _swap_boolop(other: type) -> Callable[[ast.AST], ast.AST]:
    def apply(n: ast.BoolOp) -> ast.AST:
        n.op = other()
        return n
    return apply


def _rename_call(other: str) -> Callable[[ast.AST], ast.AST]:
    def apply(n: ast.Call) -> ast.AST:
        n.func = ast.copy_location(ast.Name(other, ast.Load()), n.func)
        return n
    return apply


def _negate_test(n: ast.If | ast.While | ast.IfExp) -> ast.AST:
    n.test = ast.copy_location(ast.UnaryOp(ast.Not(), n.test), n.test)
    return n


def _with_strings(module: str) -> bool:
    return module.startswith("providers/")


def mutants(module: str) -> list[Mutant]:
    text = (ROOT / module).read_text()
    lines = text.splitlines()
    return [Mutant(module, i, node.lineno, what, lines[node.lineno - 1])
            for i, (node, what, _) in enumerate(_points(ast.parse(text), _with_strings(module)))]


def mutated_source(module: str, index: int) -> ast.Module:
    tree = ast.parse((ROOT / module).read_text())
    for i, (node, _, apply) in enumerate(_points(tree, _with_strings(module))):
        if i == index:
            _substitute(tree, node, apply(node))
            return ast.fix_missing_locations(tree)
    raise IndexError(f"{module} has no mutant {index}")


def _substitute(tree: ast.Module, old: ast.AST, new: ast.AST | None) -> None:
    """Put ``new`` where ``old`` was (``None``: remove the statement, leaving ``pass`` if the block empties)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                at = next(i for i, v in enumerate(value) if v is old)
                if new is None:
                    del value[at]
                    if not value:
                        value.append(ast.copy_location(ast.Pass(), old))
                else:
                    value[at] = new
                return
    raise LookupError("mutation point not found in its tree")


# --- serving a mutant to the tests ----------------------------------------------------------------------------

def module_name(module: str) -> str:
    parts = Path(module).with_suffix("").parts
    if parts[0] == "providers":
        parts = parts[2:]  # providers/aws/cloudorch_aws/network.py -> cloudorch_aws.network
    return ".".join(parts)


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, module: str, index: int) -> None:
        self.module, self.index, self.name = module, index, module_name(module)

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, ROOT / self.module, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        code = compile(mutated_source(self.module, self.index), str(ROOT / self.module), "exec")
        exec(code, module.__dict__)


def install(module: str, index: int) -> None:
    sys.meta_path.insert(0, _MutantFinder(module, index))


def install_from_env() -> None:
    """Called by the ``sitecustomize`` the runner puts on PYTHONPATH, in every process the tests start."""
    spec = os.environ.get(ENV)
    if spec:
        module, _, index = spec.rpartition(":")
        install(module, int(index))


# --- running ------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | error
    seconds: float


def _child(mutant: Mutant, stages: tuple[tuple[str, ...], ...], log: Path | None) -> None:
    """Runs in the forked child: hook the mutant in, run its test stages until one fails, exit with its code.

    Each stage runs in a fork of its own, so the next one imports the (mutated) project afresh."""
    if mutant.index >= 0:  # index -1: the baseline run, unmutated
        os.environ[ENV] = f"{mutant.module}:{mutant.index}"
        install(mutant.module, mutant.index)
    sink = os.open(log if log else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    code = 0
    for tests in stages:
        pid = os.fork()
        if pid == 0:
            import pytest

            try:
                code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", *tests])
            except BaseException:  # noqa: BLE001 - whatever happens, the parent must get an exit code
                code = 99
            os._exit(int(code))
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if code != 0:
            break
    os._exit(code)


def run(selected: list[Mutant], jobs: int, timeout: float, logs: Path | None,
        report: Callable[[Outcome, int, int], None]) -> list[Outcome]:
    pending = list(selected)
    running: dict[int, tuple[Mutant, float]] = {}
    done: list[Outcome] = []
    while pending or running:
        while pending and len(running) < jobs:
            mutant = pending.pop(0)
            log = logs / f"{Path(mutant.module).stem}-{mutant.index}.log" if logs else None
            pid = os.fork()
            if pid == 0:
                os.setpgid(0, 0)  # a timeout kills the child and whatever its tests started
                _child(mutant, TARGETS[mutant.module], log)
            running[pid] = (mutant, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, (mutant, started) in list(running.items()):
                if now - started > timeout:
                    os.killpg(child, 9)
                    os.waitpid(child, 0)
                    del running[child]
                    done.append(Outcome(mutant, "timeout", now - started))
                    report(done[-1], len(done), len(selected))
            time.sleep(0.05)
            continue
        if pid not in running:
            continue
        mutant, started = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        # pytest: 0 all passed, 1 a test failed, 2-3 interrupted or an internal error (a mutant that breaks
        # collection, e.g. at import, fails the tests too); a signal (negative) killed the tests' process, e.g.
        # a mutant sending SIGHUP instead of probing with signal 0; 4-5 are usage errors or nothing collected:
        # the runner's own fault, reported as errors
        state = "killed" if code < 0 else {0: "survived", 1: "killed", 2: "killed", 3: "killed"}.get(code, "error")
        done.append(Outcome(mutant, state, time.monotonic() - started))
        report(done[-1], len(done), len(selected))
    return done


def _baseline(modules: list[str]) -> dict[str, float]:
    """Each module's tests on the unmutated code: they must pass, and their time sets the time limit."""
    times = {}
    for module in modules:
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(Mutant(module, -1, 0, "", ""), TARGETS[module], None)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"the tests of {module} fail without any mutant; fix them first")
        times[module] = time.monotonic() - started
    return times


def _sitecustomize() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cloudorch-mutation-"))
    (folder / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\nimport mutation\nmutation.install_from_env()\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"files to mutate (default: {len(DEFAULT)} modules of issue 13)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout-factor", type=float, default=3.0,
                        help="time limit per mutant, as a multiple of its tests' unmutated time (default 3)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--show", metavar="MODULE:INDEX", help="print one mutant as a diff")
    parser.add_argument("--sample", type=int, metavar="N", help="every N-th mutant only (a quick estimate)")
    parser.add_argument("--only", nargs="+", metavar="MODULE:INDEX", default=(),
                        help="just these mutants (e.g. to check that a new test kills a survivor)")
    parser.add_argument("--logs", type=Path, help="keep each mutant's pytest output in this folder")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    args = parser.parse_args(argv)

    if args.show:
        module, _, index = args.show.rpartition(":")
        before = (ROOT / module).read_text()
        after = ast.unparse(mutated_source(module, int(index)))
        sys.stdout.writelines(difflib.unified_diff((ast.unparse(ast.parse(before)) + "\n").splitlines(True),
                                                   (after + "\n").splitlines(True), module, f"{module} (mutant {index})"))
        return 0
    only = {tuple(o.rsplit(":", 1)) for o in args.only}
    modules = args.modules or sorted({m for m, _ in only}) or list(DEFAULT)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"no tests known for {', '.join(unknown)}; add them to TARGETS")
    selected = [m for module in modules for m in mutants(module)]
    if only:
        selected = [m for m in selected if (m.module, str(m.index)) in only]
    if args.sample:
        selected = selected[::args.sample]
    if args.list:
        for m in selected:
            print(f"{m.module}:{m.index}\tL{m.line}\t{m.what}\t{m.source.strip()}")
        return 0

    os.chdir(ROOT)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_sitecustomize()), os.environ.get("PYTHONPATH")]))
    os.environ.setdefault("CI", "1")  # hypothesis derandomized: the same examples for every mutant
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS threads in a parent that forks
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    base = _baseline(modules)
    limit = max(base.values()) * args.timeout_factor + 10
    print(f"{len(selected)} mutants of {len(modules)} modules; tests take {', '.join(f'{Path(m).name} {t:.1f}s' for m, t in base.items())};"
          f" limit {limit:.0f}s per mutant, {args.jobs} at a time", file=sys.stderr)

    done: list[Outcome] = []

    def report(outcome: Outcome, n: int, total: int) -> None:
        done.append(outcome)
        if args.json:  # rewritten after every mutant, so a run stopped early still leaves its outcomes
            _write_json(args.json, done)
        if outcome.status != "killed":
            m = outcome.mutant
            note = " (judged equivalent)" if m.key in EQUIVALENT else ""
            print(f"[{n}/{total}] {outcome.status}{note}: {m.module}:{m.index} L{m.line} {m.what}  | {m.source.strip()}",
                  file=sys.stderr)

    outcomes = run(selected, args.jobs, limit, args.logs, report)
    print(f"\n{'module':<42} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'equiv.':>6} {'score':>6} {'adj.':>6}")
    for module in modules:
        mine = [o for o in outcomes if o.mutant.module == module]
        if mine:
            print(_row(module, mine))
    print(_row("all", outcomes))
    print(f"\n{time.monotonic() - started:.0f} s wall ({len(outcomes)} mutants, {args.jobs} jobs)")
    return 0


def _write_json(path: Path, outcomes: list[Outcome]) -> None:
    path.write_text(json.dumps([{"module": o.mutant.module, "index": o.mutant.index, "line": o.mutant.line,
                                 "mutation": o.mutant.what, "source": o.mutant.source.strip(), "status": o.status,
                                 "equivalent": EQUIVALENT.get(o.mutant.key) if o.status == "survived" else None,
                                 "seconds": round(o.seconds, 2)} for o in outcomes], indent=1))


def _row(name: str, outcomes: list[Outcome]) -> str:
    """Score: killed (timeouts included) over all mutants; adjusted: over those not judged equivalent."""
    count = {s: sum(o.status == s for o in outcomes) for s in ("killed", "timeout", "survived", "error")}
    equivalent = sum(o.status == "survived" and o.mutant.key in EQUIVALENT for o in outcomes)
    caught = count["killed"] + count["timeout"]
    total = len(outcomes)
    adjusted = caught / (total - equivalent) if total - equivalent else 1.0
    return (f"{name:<42} {total:>7} {count['killed']:>6} {count['timeout']:>7} {count['survived']:>8} {equivalent:>6}"
            f" {caught / total:>6.0%} {adjusted:>6.0%}" + (f"  ({count['error']} errors)" if count["error"] else ""))


if __name__ == "__main__":
    sys.exit(main())
