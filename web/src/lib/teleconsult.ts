// Teleconsultation sessions over REST: find or open the session, get a join grant (join token
// and ICE servers), end it. docs/realtime.md, "Signaling (/consult)".
import { api } from "./api";

export type CallRole = "patient" | "doctor";
export type SessionStatus = "scheduled" | "active" | "completed" | "failed";

export interface ConsultSession {
  id: string;
  appointment_id: string;
  status: SessionStatus;
  started_at: string | null;
  ended_at: string | null;
  duration_s: number | null;
  end_reason: string | null;
}

export interface IceServer {
  urls: string[];
  username: string | null;
  credential: string | null;
}

export interface JoinGrant {
  session_id: string;
  appointment_id: string;
  role: CallRole;
  polite: boolean;
  token: string;
  expires_at: string;
  ice_servers: IceServer[];
  window: { opens_at: string; closes_at: string };
}

const BASE = "/teleconsultation/session";

export const findSession = (appointmentId: string): Promise<ConsultSession> =>
  api<ConsultSession>(BASE, { query: { appointment_id: appointmentId } });

/** The doctor opens the appointment's session (idempotent: an existing one comes back). */
export const openSession = (appointmentId: string): Promise<ConsultSession> =>
  api<ConsultSession>(BASE, { method: "POST", body: { appointment_id: appointmentId } });

/** First entry (POST …/join) or a fresh token to come back (GET …/token): same rules. */
export const joinGrant = (sessionId: string, rejoin: boolean): Promise<JoinGrant> =>
  rejoin ? api<JoinGrant>(`${BASE}/${sessionId}/token`) : api<JoinGrant>(`${BASE}/${sessionId}/join`, { method: "POST" });

export const endSession = (sessionId: string): Promise<ConsultSession> =>
  api<ConsultSession>(`${BASE}/${sessionId}/end`, { method: "POST", body: {} });

/** The grant's ICE servers as RTCConfiguration (empty: host candidates only). */
export function rtcConfiguration(grant: JoinGrant): RTCConfiguration {
  return {
    iceServers: grant.ice_servers.map((s) => ({
      urls: s.urls,
      ...(s.username !== null ? { username: s.username } : {}),
      ...(s.credential !== null ? { credential: s.credential } : {}),
    })),
  };
}
