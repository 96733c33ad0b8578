// What the call page says about the call right now: one sentence and its tone, from the state.
import type { CallState } from "./call";
import type { strings } from "./strings";

type Key = keyof typeof strings.en;
export type Tone = "info" | "success" | "warning";

export interface Status {
  key: Key;
  tone: Tone;
}

const say = (key: Key, tone: Tone = "info"): Status => ({ key, tone });

function inCall(s: CallState): Status {
  if (!s.online) return say("offline", "warning");
  if (s.role === "doctor" && !s.started) return s.peerWaiting ? say("patientWaiting", "success") : say("patientNotIn");
  if (!s.peerPresent && s.notice === "peerHungUp") return say("peerHungUp", "warning");
  if (!s.peerPresent && s.notice === "peerDropped" && s.link !== "connected") return say("peerDropped", "warning");
  if (s.link === "connected") return say("connected", "success");
  if (s.link === "unstable") return say("unstable", "warning");
  if (s.link === "failed") return say("failed", "warning");
  return s.peerPresent ? say("connecting") : say("peerAway");
}

export function statusOf(s: CallState): Status {
  switch (s.phase) {
    case "loading":
      return say("joining");
    case "lobby":
      return say(s.role === "doctor" ? "lobbyDoctor" : "lobbyPatient");
    case "joining":
      return say("joining");
    case "waiting":
      if (!s.online) return say("offline", "warning");
      return s.peerPresent ? say("doctorHere", "success") : say("doctorNotIn");
    case "call":
      return inCall(s);
    case "left":
      return say(s.notice === "replaced" ? "replaced" : "youLeft");
    case "ended":
      return say("ended");
  }
}

/** The heading of the call card. */
export function roomTitle(s: CallState): Key {
  if (s.phase === "ended") return "roomEnded";
  if (s.phase === "call") return "roomCall";
  if (s.phase === "waiting" || (s.role === "doctor" && s.phase === "joining")) return "roomWaiting";
  return "roomLobby";
}
