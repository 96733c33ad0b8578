// Build of the browser app: served by server/web.py from web/dist (hashed assets under /assets).
import { defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => {
  // `npm run dev` proxies the API and sockets to a running `markini serve` (MARKINI_URL).
  const backend = loadEnv(mode, ".", "MARKINI_").MARKINI_URL ?? "http://127.0.0.1:8000";
  return {
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      target: "es2022",
      outDir: "dist",
      assetsDir: "assets",
      sourcemap: false,
      // The whole app is small; a warning past this means a heavy dependency crept in.
      chunkSizeWarningLimit: 150,
      // graphiql.html: the GraphQL IDE (React, its own chunks), apart from the app.
      rollupOptions: {
        input: { app: "index.html", graphiql: "graphiql.html" },
        // GraphiQL's React dependencies mark modules "use client" (a server-components hint).
        onwarn(warning, warn) {
          if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
        },
      },
    },
    server: {
      proxy: {
        "/api": backend,
        "/socket.io": { target: backend, ws: true },
        "/graphql": backend,
      },
    },
  };
});
