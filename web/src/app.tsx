// The app shell: location, layout, and one guarded route per discovered page.
import { ErrorBoundary, LocationProvider, Router } from "preact-iso";
import { useState } from "preact/hooks";
import { Guard } from "./components/Guard";
import { Layout } from "./components/Layout";
import { routes } from "./routes";

let lastPath = location.pathname;

/** On a new page (not a new query), focus its main landmark so keyboards and readers start there. */
function focusMain(): void {
  if (location.pathname === lastPath) return;
  lastPath = location.pathname;
  document.getElementById("main")?.focus({ preventScroll: true });
}

export function App() {
  const [loading, setLoading] = useState(false);
  return (
    <LocationProvider>
      <Layout busy={loading}>
        <ErrorBoundary>
          <Router
            onLoadStart={() => setLoading(true)}
            onLoadEnd={() => setLoading(false)}
            onRouteChange={focusMain}
          >
            {routes.map((page) =>
              page.path === "*" ? <Guard key="*" default page={page} path="*" /> : <Guard key={page.path} path={page.path} page={page} />,
            )}
          </Router>
        </ErrorBoundary>
      </Layout>
    </LocationProvider>
  );
}
