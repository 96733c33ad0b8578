// Binds a CallController to the page: one per socket and appointment, its state as props.
import { useEffect, useState } from "preact/hooks";
import type { Socket } from "socket.io-client";
import type { CallRole } from "../../lib/teleconsult";
import { CallController, type CallState } from "./call";

export interface Call {
  state: CallState | null;
  controller: CallController | null;
}

export function useCall(socket: Socket | null, appointmentId: string, role: CallRole, local: MediaStream | null): Call {
  const [controller, setController] = useState<CallController | null>(null);
  const [state, setState] = useState<CallState | null>(null);
  useEffect(() => {
    if (!socket) return;
    const made = new CallController(socket, appointmentId, role);
    setController(made);
    setState(made.state);
    const unsubscribe = made.subscribe(() => setState(made.state));
    return () => {
      unsubscribe();
      made.dispose();
    };
  }, [socket, appointmentId, role]);
  useEffect(() => controller?.setLocal(local), [controller, local]);
  return { state, controller };
}
