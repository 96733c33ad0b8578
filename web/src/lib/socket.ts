// Socket.IO connections (one per namespace and page) authenticated with the current access
// token on every (re)connect; requests are acknowledged as {ok, data} or {ok: false, error}.
import { io, type Socket } from "socket.io-client";
import { accessTokenSignal, session } from "./session";

/** The stored access token as it is (a follower does not refresh it at connect). */
const current = (): string | null => accessTokenSignal.value;

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

/** What a refused connection carries (docs/realtime.md, "Authentication"). */
type ConnectError = Error & { data?: { code: string; message: string } };

/** `follower`: a socket that never refreshes the token itself; refused or ended, it waits for
 * the next token the page's own requests or sockets obtain (the bell: with very short tokens,
 * its own refreshes raced the page's and could end the session, tests/e2e/test_live_sessions). */
export function openSocket(namespace: Namespace, { follower = false }: { follower?: boolean } = {}): Socket {
  // The token the last connect sent; one the server refused or ended since (refreshed before
  // the next connect instead of being sent again); and the token that refresh gave.
  let sent: string | null = null;
  let stale: string | null = null;
  let refreshed: string | null = null;

  const credentials = async (): Promise<string | null> => {
    if (follower) return current();
    const refused = stale;
    stale = null;
    if (refused === null) return session.accessToken();
    refreshed = await session.refresh(refused); // rotates the refresh token (single-flight)
    if (refreshed === null) session.expire(); // over: private pages go to sign-in (Guard)
    return refreshed;
  };

  const socket = io(namespace, {
    path: "/socket.io",
    // WebSocket first (no sticky session needed); long-polling if a proxy blocks it.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    auth: (give) => {
      void credentials().then((token) => {
        sent = token;
        give(token ? { token } : {});
      });
    },
  });

  // socket.io reconnects by itself only after network errors: not after the server refused
  // the token, nor after it closed the namespace because the token expired or the session
  // ended ("session.ended", then "io server disconnect"). Connect again with a fresh token.
  let stopFollowing: (() => void) | null = null;
  const follow = () => {
    if (sent === null || stopFollowing) return;
    const refused = sent;
    if (accessTokenSignal.value !== refused) {
      if (accessTokenSignal.value !== null) socket.connect();
      return;
    }
    const stop = accessTokenSignal.subscribe((token) => {
      if (token === refused) return;
      stopFollowing?.();
      if (token !== null) socket.connect();
    });
    stopFollowing = () => {
      stop();
      stopFollowing = null;
    };
  };
  const reconnect = () => {
    if (follower) return follow();
    if (sent === null) return; // refused without a token: signing in is the way back
    // Refused right after a refresh: the session is over; go on signed out where allowed.
    if (sent === refreshed) session.expire();
    else stale = sent;
    socket.connect();
  };
  socket.on("connect", () => {
    refreshed = null;
  });
  socket.on("connect_error", (error: ConnectError) => {
    if (error.data?.code === "unauthenticated" && !socket.active) reconnect();
  });
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") reconnect();
    if (reason === "io client disconnect") stopFollowing?.(); // closed by the page
  });
  return socket;
}

export async function request<T>(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
  const ack = (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack<T>;
  if (!ack.ok) throw new SocketRefusal(ack.error.code, ack.error.message);
  return ack.data;
}
