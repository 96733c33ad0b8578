// Teleconsultation sessions over REST: find or open the session, get a join grant (join token
// and ICE servers), end it. docs/realtime.md, "Signaling (/consult)".
import { api, ApiError } from "./api";

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
  /** The joining window, from the server's settings (consult_join_early_s, consult_grace_s). */
  join_opens_at: string;
  join_closes_at: string;
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

/** Open the appointment's session (idempotent: an existing one comes back). */
export const openSession = (appointmentId: string): Promise<ConsultSession> =>
  api<ConsultSession>(BASE, { method: "POST", body: { appointment_id: appointmentId } });

/** The appointment's session, opened on demand when it has none yet (unconfirmed bookings
 * get theirs when a party arrives): the doctor may open it any time, the patient inside the
 * joining window (else the server answers 403 outside-join-window with the hours). */
export async function sessionFor(appointmentId: string): Promise<ConsultSession> {
  try {
    return await findSession(appointmentId);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  return openSession(appointmentId);
}

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
