"""GET/POST /graphql (outside the OpenAPI document: the GraphQL schema, introspectable, is its
contract). The GraphiQL page is the app's own build (web/graphiql.html), never a CDN:
Strawberry's built-in IDE page is off."""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter

from server.graphql.context import Context, get_context
from server.graphql.schema import schema

router: GraphQLRouter[Context, None] = GraphQLRouter(
    schema,
    path="/graphql",
    context_getter=get_context,
    graphql_ide=None,
    include_in_schema=False,
)
