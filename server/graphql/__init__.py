"""GraphQL at /graphql (Strawberry): nested reads and the booking mutations over the domains'
services, with data loaders, depth and cost limits, and REST problem codes on errors."""
