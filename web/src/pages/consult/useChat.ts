// The consultation chat over Socket.IO /consult: join the room, read history, send, receive.
import { useEffect, useRef, useState } from "preact/hooks";
import { openSocket, request } from "../../lib/socket";
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

export function useChat(appointmentId: string): Chat {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [connected, setConnected] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const socket = useRef<Socket | null>(null);

  useEffect(() => {
    const s = openSocket("/consult");
    socket.current = s;
    s.on("connect", async () => {
      try {
        // Join on every connect: a reconnected socket is a new socket to the server.
        await request(s, "join", { appointment_id: appointmentId });
        const page = await request<HistoryPage>(s, "history", { appointment_id: appointmentId });
        setMessages((current) => merge(current, page.messages));
        setConnected(true);
        setError(undefined);
      } catch (caught) {
        setError(caught);
      }
    });
    s.on("disconnect", () => setConnected(false));
    s.on("message", (message: ChatMessage) => {
      if (message.appointment_id === appointmentId) setMessages((current) => merge(current, [message]));
    });
    return () => {
      s.close();
      socket.current = null;
    };
  }, [appointmentId]);

  const send = async (body: string) => {
    const s = socket.current;
    if (!s) return;
    const sent = await request<ChatMessage>(s, "message", {
      appointment_id: appointmentId,
      body,
      client_message_id: crypto.randomUUID(),
    });
    setMessages((current) => merge(current, [sent]));
  };
  return { messages, connected, error, send };
}
