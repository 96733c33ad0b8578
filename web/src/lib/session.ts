// Who is signed in: tokens kept in localStorage so a reload keeps the session (the refresh
// token rotates on each use); tabs share one session and never refresh the same token twice.
import { computed, signal } from "@preact/signals";
import type { Role } from "./types";

const STORAGE_KEY = "markini.session";
// Refresh a little before expiry so a request does not meet a token that dies in flight.
const EXPIRY_MARGIN_MS = 30_000;

export interface SessionUser {
  id: string;
  email: string;
  role: Role;
  mfa_enabled: boolean;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: SessionUser;
}

interface Stored {
  access: string;
  refresh: string;
  expiresAt: number;
  user: SessionUser;
}

function load(): Stored | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

const current = signal<Stored | null>(load());
/** Set when a session ends without the user asking (expired, revoked): sign-in explains why. */
export const sessionExpired = signal(false);
export const user = computed(() => current.value?.user ?? null);
/** The current access token (changes at each refresh); null when signed out. */
export const accessTokenSignal = computed(() => current.value?.access ?? null);

function store(next: Stored | null): void {
  current.value = next;
  if (next) localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else localStorage.removeItem(STORAGE_KEY);
}

// Another tab signed in, refreshed or signed out: follow it.
window.addEventListener("storage", (event) => {
  if (event.key === STORAGE_KEY) current.value = load();
});

async function postRefresh(refreshToken: string): Promise<Tokens | null> {
  try {
    const response = await fetch("/api/v1/auth/refresh-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    return response.ok ? ((await response.json()) as Tokens) : null;
  } catch {
    return null;
  }
}

let inflight: Promise<string | null> | null = null;

async function rotate(staleAccess: string | null): Promise<string | null> {
  const run = async (): Promise<string | null> => {
    const stored = load();
    if (!stored) return null;
    // Another tab already rotated while we waited for the lock: use its tokens.
    if (stored.access !== staleAccess && stored.expiresAt - EXPIRY_MARGIN_MS > Date.now()) {
      current.value = stored;
      return stored.access;
    }
    const tokens = await postRefresh(stored.refresh);
    if (!tokens) return null;
    session.signIn(tokens);
    return tokens.access_token;
  };
  // Web Locks serialise refreshes across tabs: a refresh token used twice revokes the session.
  return navigator.locks ? navigator.locks.request("markini.refresh", run) : run();
}

export const session = {
  signIn(tokens: Tokens): void {
    sessionExpired.value = false;
    store({
      access: tokens.access_token,
      refresh: tokens.refresh_token,
      expiresAt: Date.now() + tokens.expires_in * 1000,
      user: tokens.user,
    });
  },

  /** A live access token, refreshed first if it is about to expire; null when signed out. */
  async accessToken(): Promise<string | null> {
    const stored = current.value;
    if (!stored) return null;
    if (stored.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return stored.access;
    const fresh = await this.refresh(stored.access);
    if (!fresh) this.expire();
    return fresh;
  },

  /** Single-flight refresh; resolves to the new access token or null if the session is over. */
  refresh(staleAccess: string | null): Promise<string | null> {
    inflight ??= rotate(staleAccess).finally(() => {
      inflight = null;
    });
    return inflight;
  },

  refreshToken(): string | null {
    return current.value?.refresh ?? null;
  },

  /** The server no longer accepts this session. */
  expire(): void {
    if (!current.value) return;
    store(null);
    sessionExpired.value = true;
  },

  clear(): void {
    store(null);
  },
};
