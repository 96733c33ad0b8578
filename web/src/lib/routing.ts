// What a page folder declares (pages/<page>/route.ts): its path, who may open it, and an
// optional navigation entry. src/routes.ts discovers every such file; nothing else lists pages.
import type { AnyComponent } from "preact";
import type { Role } from "./types";

/** public: anyone; guest: signed-out only (sign-in, sign-up); a role: signed-in with that role. */
export type Access = "public" | "guest" | "signed-in" | Role;

export interface NavEntry {
  /** Left-to-right position in the header. */
  order: number;
  label: { en: string; fr: string };
}

export interface PageRoute {
  path: string;
  component: AnyComponent<Record<string, unknown>>;
  access: Access;
  nav?: NavEntry;
}

export function definePage(route: PageRoute): PageRoute {
  return route;
}

export function allows(access: Access, role: Role | undefined): boolean {
  if (access === "public") return true;
  if (access === "guest") return role === undefined;
  if (role === undefined) return false;
  return access === "signed-in" || access === role || role === "admin";
}

/** Where to go after signing in: only same-site paths, never a crafted absolute URL. */
export function safeNext(next: string | undefined, fallback = "/"): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : fallback;
}

export function signInUrl(returnTo: string): string {
  return `/sign-in?next=${encodeURIComponent(returnTo)}`;
}

/** Where a freshly signed-in user lands: the page they were sent from, else their role's home. */
export function landingFor(role: Role, next: string | undefined): string {
  const target = safeNext(next, "");
  if (target) return target;
  return role === "doctor" ? "/agenda" : "/";
}
