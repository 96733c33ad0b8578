// GraphiQL is a React app; only these two entry points are used, so no @types/react is needed.
declare module "react" {
  export function createElement(type: unknown, props?: Record<string, unknown> | null): unknown;
}
declare module "react-dom/client" {
  export function createRoot(container: Element): { render(element: unknown): void };
}
