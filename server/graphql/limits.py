"""Query cost limit: each selected field costs 1, and a list field's children cost as many times
as its `limit` argument allows (default DEFAULT_LIST), so one query cannot ask for 100 x 100 x
100 rows. Depth, aliases and tokens are bounded by Strawberry's own extensions (schema.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from server.graphql.errors import QUERY_TOO_COSTLY

MAX_COST = 5_000
DEFAULT_LIST = 50
# Fields whose children repeat once per item (list fields); others count once.
LIST_FIELDS = frozenset(
    {"appointments", "medicalHistory", "availability", "searchDoctors", "myAppointments"}
)


def _multiplier(node: FieldNode, variables: dict[str, Any]) -> int:
    if node.name.value not in LIST_FIELDS:
        return 1
    for argument in node.arguments or ():
        if argument.name.value == "limit":
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, int(value.value))
            if isinstance(value, VariableNode):
                return max(1, int(variables.get(value.name.value) or DEFAULT_LIST))
    return DEFAULT_LIST


def selection_cost(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    seen: frozenset[str] = frozenset(),
) -> int:
    if selections is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            children = selection_cost(selection.selection_set, fragments, variables, seen)
            total += 1 + _multiplier(selection, variables) * children
        elif isinstance(selection, InlineFragmentNode):
            total += selection_cost(selection.selection_set, fragments, variables, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are refused elsewhere
                total += selection_cost(fragment.selection_set, fragments, variables, seen | {name})
    return total


class QueryCostLimiter(SchemaExtension):
    """Refuses, before anything runs, an operation that costs more than MAX_COST."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            variables = context.variables or {}
            for operation in document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                cost = selection_cost(operation.selection_set, fragments, variables)
                if cost > MAX_COST:
                    params = {"cost": cost, "max_cost": MAX_COST}
                    raise GraphQLError(
                        QUERY_TOO_COSTLY.text(params),
                        operation,
                        extensions={
                            "code": QUERY_TOO_COSTLY.code,
                            "status": 400,
                            "params": params,
                            "cost": cost,
                        },
                    )
        yield
