// The one HTTP client: JSON in and out, RFC 9457 problems as ApiError, bearer token attached,
// one silent refresh-and-retry when the access token has expired, and safe automatic retries of
// state changes that carry an Idempotency-Key (the server answers a repeat with the first answer).
import type { Params } from "./i18n";
import { fieldText, type FieldProblem } from "./problemText";
import { session } from "./session";

export const API_BASE = "/api/v1";

export type FieldError = FieldProblem;

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** Stable machine code to translate by (README, "Error codes"). */
  code?: string;
  params?: Params;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** Message for one form field, when the server named it (e.g. "email"), in the reader's
   * language. */
  fieldError(field: string): string | undefined {
    const error = this.problem.errors?.find((e) => e.field === field || e.field.endsWith(`.${field}`));
    return error && fieldText(error);
  }
}

/** The request never got an answer (offline, server down): not the same as a refusal. */
export class NetworkError extends Error {}

export type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Query;
  /** Send the access token (default) or not (sign-in, sign-up, public reads). */
  auth?: boolean;
  signal?: AbortSignal;
  /** One key per user action (newIdempotencyKey() when the user presses the button): sent as
   * Idempotency-Key, reused for every automatic retry of that action. */
  idempotencyKey?: string;
}

/** A fresh Idempotency-Key for one user action. randomUUID needs a secure context (https or
 * localhost); elsewhere the same 122 random bits come from getRandomValues. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Retries of a keyed action after no answer (offline, timeout) or "still running" (409 with
// Retry-After): the key makes them safe. Waits grow: 1 s, 2 s, 4 s.
const KEYED_RETRIES = 3;
const IN_FLIGHT_PROBLEM = "/problems/idempotency-key-in-flight";

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ""}`;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  try {
    return await fetch(buildUrl(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new NetworkError(String(error));
  }
}

async function parse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem = (typeof data === "object" && data !== null ? data : {}) as Problem;
    throw new ApiError(response.status, problem);
  }
  return data as T;
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("Aborted", "AbortError"));
    });
  });
}

async function stillRunning(response: Response): Promise<number | null> {
  if (response.status !== 409) return null;
  const problem = (await response.clone().json().catch(() => ({}))) as Problem;
  if (problem.type !== IN_FLIGHT_PROBLEM) return null;
  return Number(response.headers.get("Retry-After")) || 1;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  if (!options.idempotencyKey) return parse<T>(await exchange(path, options));
  for (let retry = 0; ; retry++) {
    const last = retry >= KEYED_RETRIES;
    let response: Response;
    try {
      response = await exchange(path, options);
    } catch (error) {
      if (last || !(error instanceof NetworkError)) throw error;
      await wait(1000 * 2 ** retry, options.signal);
      continue;
    }
    const after = last ? null : await stillRunning(response);
    if (after === null) return parse<T>(response);
    await wait(after * 1000, options.signal);
  }
}

/** One request, with the silent refresh-and-retry of an expired access token. */
async function exchange(path: string, options: RequestOptions): Promise<Response> {
  const useAuth = options.auth ?? true;
  const token = useAuth ? await session.accessToken() : null;
  let response = await send(path, options, token);
  if (response.status === 401 && token && !(await refusedForItsOwnCredential(response))) {
    // Expired or revoked access token: refresh once, then give up and send the user to sign in.
    const fresh = await session.refresh(token);
    if (fresh) response = await send(path, options, fresh);
    else session.expire();
  }
  return response;
}

// 401s about a credential the request itself carries (the admin's password again), not about
// the access token: refreshing and sending it again would only repeat the refusal (and count
// one more failed attempt).
const OWN_CREDENTIAL_CODES = new Set(["wrong-password"]);

async function refusedForItsOwnCredential(response: Response): Promise<boolean> {
  const problem = (await response.clone().json().catch(() => ({}))) as Problem;
  return typeof problem.code === "string" && OWN_CREDENTIAL_CODES.has(problem.code);
}

/** A binary answer (an invoice PDF, the data export zip) with the same token handling as api();
 * ApiError on a problem. */
export async function apiBlob(path: string): Promise<Blob> {
  const response = await exchange(path, {});
  if (!response.ok) await parse<never>(response);
  return response.blob();
}
