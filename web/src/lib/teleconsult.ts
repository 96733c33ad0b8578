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

/** The doctor opens the appointment's session (idempotent: an existing one comes back). */
export const openSession = (appointmentId: string): Promise<ConsultSession> =>
  api<ConsultSession>(BASE, { method: "POST", body: { appointment_id: appointmentId } });

// The patient's page looks again this often for a session the doctor has not opened yet.
const SESSION_RETRY_MS = 4_000;

/** The appointment's session. Sessions open when the doctor confirms the appointment or
 * enters the room: a doctor opens a missing one, a patient waits for it (`notOpen` each time
 * it is not there yet) until it appears or `stopped()` says the page is gone. */
export async function sessionFor(
  appointmentId: string,
  role: CallRole,
  wait: { notOpen: () => void; stopped: () => boolean },
): Promise<string> {
  for (;;) {
    try {
      return (await findSession(appointmentId)).id;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    if (role === "doctor") return (await openSession(appointmentId)).id;
    wait.notOpen();
    await new Promise((resolve) => setTimeout(resolve, SESSION_RETRY_MS));
    if (wait.stopped()) throw new Error("the page was closed");
  }
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
