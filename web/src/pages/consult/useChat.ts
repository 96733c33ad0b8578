// The consultation chat on the page's /consult socket: join the room, read history, send, receive.
import { useEffect, useRef, useState } from "preact/hooks";
import { request } from "../../lib/socket";
import type { Socket } from "socket.io-client";

export interface ChatMessage {
  id: string;
  appointment_id: string;
  sender_user_id: string;
  body: string;
  client_message_id: string | null;
  created_at: string;
  read_at: string | null;
}

interface HistoryPage {
  messages: ChatMessage[];
  next_before: string | null;
}

export interface Chat {
  messages: ChatMessage[];
  connected: boolean;
  error: unknown;
  send: (body: string) => Promise<void>;
}

function merge(messages: ChatMessage[], more: ChatMessage[]): ChatMessage[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  more.forEach((m) => byId.set(m.id, m));
  return [...byId.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}

// Pages read back at most after an outage (50 messages each): the chat is stored, older ones
// stay a scroll away, this only bounds one catch-up.
const MAX_CATCH_UP_PAGES = 20;

/** The latest history, paged back until it meets a message already shown: messages said
 * while this page was offline come back however many there were. */
async function missed(socket: Socket, appointmentId: string, known: ReadonlySet<string>): Promise<ChatMessage[]> {
  let page = await request<HistoryPage>(socket, "history", { appointment_id: appointmentId });
  const found = [...page.messages];
  for (let pages = 1; pages < MAX_CATCH_UP_PAGES && known.size > 0 && page.next_before; pages++) {
    if (page.messages.some((m) => known.has(m.id))) break;
    page = await request<HistoryPage>(socket, "history", { appointment_id: appointmentId, before: page.next_before });
    found.push(...page.messages);
  }
  return found;
}

export function useChat(socket: Socket | null, appointmentId: string): Chat {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const shown = useRef(new Set<string>());
  shown.current = new Set(messages.map((m) => m.id));

  useEffect(() => {
    if (!socket) return;
    const joinRoom = async () => {
      try {
        // Join on every connect: a reconnected socket is a new socket to the server.
        await request(socket, "join", { appointment_id: appointmentId });
        const found = await missed(socket, appointmentId, shown.current);
        setMessages((current) => merge(current, found));
        setConnected(true);
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    };
    const offline = () => setConnected(false);
    // The server's nodes lost their link for a while: live messages may be missing, the
    // history has them (merged by id, so nothing shows twice).
    const resync = async ({ appointment_id }: { appointment_id: string }) => {
      if (appointment_id !== appointmentId) return;
      try {
        const found = await missed(socket, appointmentId, shown.current);
        setMessages((current) => merge(current, found));
      } catch (caught) {
        setError(caught);
      }
    };
    const received = (message: ChatMessage) => {
      if (message.appointment_id === appointmentId) setMessages((current) => merge(current, [message]));
    };
    socket.on("connect", joinRoom);
    socket.on("disconnect", offline);
    socket.on("message", received);
    socket.on("resync", resync);
    if (socket.connected) void joinRoom();
    return () => {
      socket.off("connect", joinRoom);
      socket.off("disconnect", offline);
      socket.off("message", received);
      socket.off("resync", resync);
    };
  }, [socket, appointmentId]);

  const send = async (body: string) => {
    if (!socket) return;
    const sent = await request<ChatMessage>(socket, "message", {
      appointment_id: appointmentId,
      body,
      client_message_id: crypto.randomUUID(),
    });
    setMessages((current) => merge(current, [sent]));
  };
  return { messages, connected, error, send };
}
