// Chat beside the video: history first, newest at the bottom, announced politely.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Socket } from "socket.io-client";
import { Button } from "../../components/Button";
import { Alert, Empty } from "../../components/Status";
import { errorMessage } from "../../lib/errors";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { user } from "../../lib/session";
import { common } from "../../lib/strings";
import { formatTime } from "../../lib/time";
import { strings } from "./strings";
import { useChat } from "./useChat";

export function ChatPanel({ socket, appointmentId }: { socket: Socket | null; appointmentId: string }) {
  const t = useT(strings);
  const tc = useT(common);
  const chat = useChat(socket, appointmentId);
  const [draft, setDraft] = useState("");
  const list = useRef<HTMLOListElement>(null);
  const send = useAction(async () => {
    await chat.send(draft.trim());
    setDraft("");
  });
  useEffect(() => list.current?.scrollTo({ top: list.current.scrollHeight }), [chat.messages.length]);
  const me = user.value?.id;
  return (
    <section class="card chat" aria-labelledby="chat-title">
      <h2 id="chat-title">{t("chat")}</h2>
      {chat.error !== undefined && <Alert>{t("chatError")}</Alert>}
      {!chat.connected && chat.error === undefined && <p class="hint">{t("chatOffline")}</p>}
      <ol class="messages" ref={list} aria-label={t("chatHistory")} aria-live="polite" tabIndex={0}>
        {chat.messages.length === 0 && (
          <li>
            <Empty>{t("noMessages")}</Empty>
          </li>
        )}
        {chat.messages.map((m) => (
          <li key={m.id} class={m.sender_user_id === me ? "mine" : "theirs"}>
            <span class="visually-hidden">{m.sender_user_id === me ? t("me") : t("them")}: </span>
            <span class="bubble">{m.body}</span>
            <time dateTime={m.created_at}>{formatTime(m.created_at)}</time>
          </li>
        ))}
      </ol>
      <form
        class="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) void send.run();
        }}
      >
        <label for="chat-input" class="visually-hidden">
          {t("message")}
        </label>
        <input id="chat-input" value={draft} maxLength={2000} autocomplete="off" onInput={(e) => setDraft(e.currentTarget.value)} />
        <Button type="submit" busy={send.busy} busyLabel={t("sending")} disabled={!chat.connected}>
          {t("send")}
        </Button>
      </form>
      {send.error !== undefined && <Alert>{errorMessage(send.error, tc)}</Alert>}
    </section>
  );
}
