// Video consultation: camera and microphone preview, waiting room, admission, video both ways
// over WebRTC (signaling on /consult), and the chat with its history beside it.
import { useRoute } from "preact-iso";
import { useEffect } from "preact/hooks";
import { Loading } from "../../components/Status";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { user } from "../../lib/session";
import type { CallRole } from "../../lib/teleconsult";
import { CallPanel } from "./CallPanel";
import { ChatPanel } from "./ChatPanel";
import { GuestPanel, useGuests } from "./GuestPanel";
import { PrecallPanel } from "./PrecallPanel";
import { counterpartOf } from "./counterpart";
import { strings } from "./strings";
import { useCall } from "./useCall";
import { QueueBanner } from "../../components/QueueBanner";
import { useConsultSocket } from "./useConsultSocket";
import { useLocalMedia } from "./useLocalMedia";
import "./consult.css";

export default function ConsultPage() {
  const t = useT(strings);
  const { params } = useRoute();
  const appointmentId = params.id ?? "";
  useDocumentTitle(t("title"));
  const role: CallRole = user.value?.role === "doctor" ? "doctor" : "patient";
  const socket = useConsultSocket();
  const media = useLocalMedia();
  const call = useCall(socket, appointmentId, role, media.stream);
  const guests = useGuests(socket, call.controller, media.stream);
  const other = useAsync((signal) => counterpartOf(appointmentId, role, signal), [appointmentId, role]);
  const name = other.data?.name ?? t("someone");
  const phase = call.state?.phase;
  const ended = phase === "ended";
  const known = phase !== undefined && phase !== "loading";

  // The preview starts as soon as the consultation is known not to be over (the waiting room
  // is where people check their camera), and goes off when it is over, however that is learnt.
  useEffect(() => {
    if (known && !ended) void media.start();
  }, [known]);
  useEffect(() => {
    if (ended) media.stop();
  }, [ended]);

  return (
    <div class="page consult">
      <div>
        <h1>{t("title")}</h1>
        {other.data && <p class="muted">{t("with", { name: other.data.name })}</p>}
        {role === "patient" && !ended && <QueueBanner appointmentId={appointmentId} />}
      </div>
      <div class="consult-layout">
        {call.state && call.controller && known ? (
          <CallPanel
            state={call.state}
            controller={call.controller}
            media={media}
            name={name}
            joinWindow={other.data?.joinWindow ?? null}
          />
        ) : (
          <Loading />
        )}
        {call.state && call.controller && (phase === "lobby" || phase === "waiting" || (phase === "call" && !call.state.started)) && (
          <PrecallPanel socket={socket} state={call.state} controller={call.controller} media={media} name={name} />
        )}
        {call.state && guests.controller && guests.state && (
          <GuestPanel role={role} call={call.state} controller={guests.controller} state={guests.state} />
        )}
        <ChatPanel socket={socket} appointmentId={appointmentId} />
      </div>
    </div>
  );
}
