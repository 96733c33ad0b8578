// Every page folder with a route.ts is a page: adding a page means adding a folder, nothing else.
import type { PageRoute } from "./lib/routing";

const modules = import.meta.glob<{ route: PageRoute }>("./pages/*/route.ts", { eager: true });

// Static paths before parameterised ones, so "/doctors/agenda" is never taken for an id.
const specificity = (path: string): number => (path.includes(":") ? 1 : 0) + (path.includes("*") ? 2 : 0);

export const routes: PageRoute[] = Object.values(modules)
  .map((module) => module.route)
  .sort((a, b) => specificity(a.path) - specificity(b.path));
