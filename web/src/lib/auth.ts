// Account actions (sign-in with optional TOTP step, sign-up, sign-out, password reset) over
// /api/v1/auth; the tokens they yield go to the session store.
import { api } from "./api";
import { session, type Tokens } from "./session";

interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  expires_in: number;
}

export type SignInResult = { kind: "signed-in"; tokens: Tokens } | { kind: "mfa"; mfaToken: string };

export async function signIn(email: string, password: string): Promise<SignInResult> {
  const answer = await api<Tokens | MfaChallenge>("/auth/login", {
    method: "POST",
    body: { email, password },
    auth: false,
  });
  if ("mfa_required" in answer) return { kind: "mfa", mfaToken: answer.mfa_token };
  session.signIn(answer);
  return { kind: "signed-in", tokens: answer };
}

/** Ask for a one-time sign-in code by email or SMS (instead of the authenticator app). */
export async function sendMfaCode(mfaToken: string, channel: "email" | "sms"): Promise<void> {
  await api("/auth/mfa/send-code", { method: "POST", auth: false, body: { mfa_token: mfaToken, channel } });
}

export async function verifyMfa(mfaToken: string, code: string): Promise<Tokens> {
  const tokens = await api<Tokens>("/auth/verify-mfa", {
    method: "POST",
    body: { mfa_token: mfaToken, code: code.replace(/\s+/g, "") },
    auth: false,
  });
  session.signIn(tokens);
  return tokens;
}

export interface Registration {
  email: string;
  password: string;
  first_name: string;
  last_name: string;
  role: "patient" | "doctor";
}

/** Creates the account, then signs in with the same credentials. */
export async function signUp(registration: Registration): Promise<void> {
  await api("/auth/register", { method: "POST", body: registration, auth: false });
  await signIn(registration.email, registration.password);
}

export async function signOut(): Promise<void> {
  const refreshToken = session.refreshToken();
  try {
    await api("/auth/logout", { method: "POST", body: refreshToken ? { refresh_token: refreshToken } : {} });
  } catch {
    // Signing out locally is what the user asked for; the server session expires on its own.
  } finally {
    session.clear();
  }
}

export function forgotPassword(email: string): Promise<unknown> {
  return api("/auth/forgot-password", { method: "POST", body: { email }, auth: false });
}

export function resetPassword(token: string, newPassword: string): Promise<unknown> {
  return api("/auth/reset-password", {
    method: "POST",
    body: { token, new_password: newPassword },
    auth: false,
  });
}
