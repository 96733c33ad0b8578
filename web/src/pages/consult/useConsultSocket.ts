// The page's one /consult socket, shared by the chat and the call (the server relays signaling
// to the party's call socket, which is also in the chat room).
import { useEffect, useState } from "preact/hooks";
import type { Socket } from "socket.io-client";
import { openSocket } from "../../lib/socket";

export function useConsultSocket(): Socket | null {
  const [socket, setSocket] = useState<Socket | null>(null);
  useEffect(() => {
    const opened = openSocket("/consult");
    setSocket(opened);
    return () => {
      opened.close();
    };
  }, []);
  return socket;
}
