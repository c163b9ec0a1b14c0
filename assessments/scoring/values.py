"""Comparing response values: blank checks, text normalisation, numbers by value, and a small, bounded
evaluator of numeric formulas (``3/4``, ``2^3``, ``\\frac{6}{8}``, ``1.5 \\times 2``) — never ``eval``."""

from __future__ import annotations

import ast
import decimal as _decimal
import math
import operator
import re
import unicodedata
from fractions import Fraction
from typing import Any

MAX_FORMULA = 200
MAX_EXPONENT = 64
MAX_BITS = 4096


def blank(value: Any, *, deep: bool = False) -> bool:
    """Nothing given: ``None``, an empty or all-space string, an empty list (with ``deep``: a list of blanks)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        if not value:
            return True
        return deep and all(blank(x, deep=True) for x in value)
    return False


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def text(value: Any, case_sensitive: bool) -> str:
    out = unicodedata.normalize("NFC", " ".join(str(value if value is not None else "").split()))
    return out if case_sensitive else out.casefold()


def literal(value: Any) -> str:
    return "".join(str(value or "").split())


def decimal(value: Any) -> _decimal.Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        d = _decimal.Decimal(str(value).strip().replace(",", ""))
    except (_decimal.InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


_LATEX = [
    (re.compile(r"\\left|\\right"), ""),
    (re.compile(r"\\(?:cdot|times)"), "*"),
    (re.compile(r"\\div"), "/"),
    (re.compile(r"\\d?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}"), r"((\1)/(\2))"),
    (re.compile(r"\\sqrt\s*\{([^{}]*)\}"), r"((\1)**(1/2))"),
    (re.compile(r"[{}]"), lambda m: "(" if m.group(0) == "{" else ")"),
    (re.compile(r"\^"), "**"),
    (re.compile(r"(?<=\d),(?=\d{3}\b)"), ""),
]

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _eval(node: ast.AST) -> Fraction | float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Fraction(node.value) if isinstance(node.value, int) else Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        inner = _eval(node.operand)
        return inner if isinstance(node.op, ast.UAdd) else -inner
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            if isinstance(right, Fraction) and right.denominator == 1 and abs(right) <= MAX_EXPONENT:
                if left == 0 and right < 0:
                    raise ZeroDivisionError
                size = max(left.numerator.bit_length(), left.denominator.bit_length()) if isinstance(left, Fraction) else 64
                if size * abs(int(right)) > MAX_BITS:
                    raise ValueError("out of range")
                return left ** int(right)
            if float(left) < 0 or abs(float(right)) > MAX_EXPONENT:
                raise ValueError("out of range")
            return float(left) ** float(right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise ValueError("operator")
        result = op(left, right)
        if isinstance(result, Fraction) and max(result.numerator.bit_length(), result.denominator.bit_length()) > MAX_BITS:
            raise ValueError("out of range")
        return result
    raise ValueError("not a number")


def evaluate(formula: str) -> float | None:
    """The value of a numeric formula, or ``None`` when it is not one (a variable, a function, too long)."""
    if not isinstance(formula, str) or not formula.strip() or len(formula) > MAX_FORMULA:
        return None
    expr = formula.strip()
    for pattern, replacement in _LATEX:
        expr = pattern.sub(replacement, expr)
    expr = re.sub(r"(?<=[\d)])\s*\(", "*(", expr)  # 2(3) → 2*(3)
    if not re.fullmatch(r"[\d\s.+\-*/()]*", expr):
        return None
    try:
        result = _eval(ast.parse(expr, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError, RecursionError, MemoryError):
        return None
    value = float(result)
    return value if math.isfinite(value) else None
