// Socket.IO connections (one per namespace and page) authenticated with the current access
// token on every (re)connect; requests are acknowledged as {ok, data} or {ok: false, error}.
import { io, type Socket } from "socket.io-client";
import { session } from "./session";

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

/** The server refused a socket request; `code` is one of docs/realtime.md's error codes. */
export class SocketRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Namespace = "/availability" | "/agenda" | "/notifications" | "/consult";

export function openSocket(namespace: Namespace): Socket {
  const socket = io(namespace, {
    path: "/socket.io",
    // WebSocket first (no sticky session needed); long-polling if a proxy blocks it.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (give) => {
      void session.accessToken().then((token) => give(token ? { token } : {}));
    },
  });
  socket.on("connect_error", (error) => {
    // An expired token: refresh it; socket.io retries on its own only after network errors.
    if (/unauth|expired|token/i.test(error.message) && !socket.active) {
      void session.refresh(null).then((token) => token && socket.connect());
    }
  });
  return socket;
}

export async function request<T>(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
  const ack = (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack<T>;
  if (!ack.ok) throw new SocketRefusal(ack.error.code, ack.error.message);
  return ack.data;
}
