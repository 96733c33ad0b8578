// The call events on /consult, as signaling/protocol.py declares them (docs/realtime.md,
// "Signaling (/consult)"): names once here, payload shapes beside them.
import type { CallRole } from "../../lib/teleconsult";
import type { Quality, VideoPause } from "./quality";

export const CALL = {
  join: "call.join",
  admit: "call.admit",
  offer: "call.offer",
  answer: "call.answer",
  ice: "call.ice",
  hangup: "call.hangup",
  media: "call.media",
  waiting: "call.waiting",
  admitted: "call.admitted",
  peerJoined: "call.peer_joined",
  peerLeft: "call.peer_left",
  replaced: "call.replaced",
  ended: "call.ended",
} as const;

/** The third participant (docs/realtime.md, "Third participant"). */
export const GUEST = {
  admit: "call.admit_guest",
  refuse: "call.refuse_guest",
  waiting: "call.guest_waiting",
  refused: "call.refused",
} as const;

/** What a peer sends towards the other party (relayed as is, plus `from`). */
export type SignalEvent = typeof CALL.offer | typeof CALL.answer | typeof CALL.ice;

export interface PeerState {
  role: CallRole;
  present: boolean;
  /** Present but not yet admitted (the patient, seen by the doctor). */
  waiting: boolean;
}

export interface CallJoined {
  session_id: string;
  role: CallRole;
  polite: boolean;
  admitted: boolean;
  status: string;
  peer: PeerState;
  /** The third participant, waiting or in the call (null: none). */
  guest?: { invite_id: string; display_name: string; role: "carer" | "interpreter" | "clinician"; status: "waiting" | "admitted"; present: boolean } | null;
}

export interface PeerJoined {
  role: CallRole;
  resume: boolean;
}

export interface PeerLeft {
  role: CallRole;
  reason: "hangup" | "left" | "replaced" | "ended";
}

/** To every socket in the consultation's room, in the call or not. */
export interface CallEnded {
  session_id: string;
  appointment_id: string;
  status: string;
  ended_at: string | null;
  duration_s: number | null;
}

export interface DescriptionMessage {
  from?: string;
  description: RTCSessionDescriptionInit;
}

export interface IceMessage {
  from?: string;
  candidate: RTCIceCandidateInit | null;
}


/** A party's own media and link, relayed to the other (call.media). */
export interface MediaNews {
  from?: string;
  video: boolean;
  reason: VideoPause;
  quality: Quality | null;
}
