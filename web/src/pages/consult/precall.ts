// The waiting room's pre-call check: round trip and upload throughput to the server over the
// page's own /consult socket, and the plain verdict (docs/realtime.md, "Pre-call check").
import type { Socket } from "socket.io-client";
import { api } from "../../lib/api";
import { request } from "../../lib/socket";

export type Verdict = "good" | "audio_only" | "cannot_connect";
export type DeviceState = "ok" | "denied" | "missing" | "error";

export interface PrecallCheck {
  verdict: Verdict;
  camera: DeviceState;
  microphone: DeviceState;
  rtt_ms: number | null;
  throughput_kbps: number | null;
}

export interface SavedCheck extends PrecallCheck {
  role: "patient" | "doctor";
  checked_at: string;
}

const PROBE = "precheck.probe";
const PINGS = 5;
const PAD = "x".repeat(48_000); // the server's largest probe
const UPLOADS = 4;
const PROBE_TIMEOUT_MS = 5_000;
// Under these a video call stutters: audio only is advised.
const VIDEO_RTT_MS = 300;
const VIDEO_KBPS = 1_000;

export interface Network {
  rttMs: number;
  throughputKbps: number;
}

/** Median round trip of small probes, then the upload rate of padded ones; null: unreachable. */
export async function measureNetwork(socket: Socket): Promise<Network | null> {
  try {
    const trips: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const start = performance.now();
      await request(socket, PROBE, { pad: "" }, PROBE_TIMEOUT_MS);
      trips.push(performance.now() - start);
    }
    trips.sort((a, b) => a - b);
    const start = performance.now();
    let sent = 0;
    for (let i = 0; i < UPLOADS; i++) {
      const ack = await request<{ bytes: number }>(socket, PROBE, { pad: PAD }, PROBE_TIMEOUT_MS);
      sent += ack.bytes;
    }
    const seconds = Math.max((performance.now() - start) / 1000, 0.001);
    return { rttMs: Math.round(trips[Math.floor(PINGS / 2)] ?? 0), throughputKbps: Math.round((sent * 8) / seconds / 1000) };
  } catch {
    return null;
  }
}

export function verdictOf(network: Network | null, camera: DeviceState): Verdict {
  if (network === null) return "cannot_connect";
  if (camera !== "ok" || network.rttMs > VIDEO_RTT_MS || network.throughputKbps < VIDEO_KBPS) return "audio_only";
  return "good";
}

const url = (sessionId: string) => `/teleconsultation/session/${sessionId}/precheck`;

export const saveCheck = (sessionId: string, check: PrecallCheck): Promise<SavedCheck> =>
  api<SavedCheck>(url(sessionId), { method: "PUT", body: check });

export const readChecks = (sessionId: string): Promise<{ checks: SavedCheck[] }> =>
  api<{ checks: SavedCheck[] }>(url(sessionId));
