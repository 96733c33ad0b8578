// The GraphQL IDE itself, loaded on demand by main.ts (its own chunk: GraphiQL, React and
// CodeMirror stay out of every other page). Bundled from npm (no CDN): queries /graphql with the
// signed-in user's access token, so what it shows is exactly what that user may see.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { session } from "../lib/session";
import "./graphiql.css";

const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  fetch: async (input, init) => {
    const token = await session.accessToken();
    const headers = new Headers(init?.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  },
});

const EXAMPLE = `# Your next appointments, with their doctor and patient (one SQL batch each).
{
  myAppointments(limit: 10) {
    id
    date
    startTime
    status
    doctor { firstName lastName specialization }
    patient { firstName lastName }
  }
}
`;

/** Replace the host's loading text with GraphiQL. */
export function mount(host: Element): void {
  createRoot(host).render(createElement(GraphiQL, { fetcher, defaultQuery: EXAMPLE }));
}
