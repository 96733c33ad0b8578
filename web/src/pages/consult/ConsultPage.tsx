// Video consultation: waiting room with camera/mic preview, call controls, chat with history.
// The media link (WebRTC signaling over /consult) arrives with the teleconsultation backend.
import { useRoute } from "preact-iso";
import { useEffect, useRef, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert } from "../../components/Status";
import { useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { user } from "../../lib/session";
import { ChatPanel } from "./ChatPanel";
import { strings } from "./strings";
import { useLocalMedia } from "./useLocalMedia";
import "./consult.css";

type Phase = "preview" | "waiting" | "ended";

function Video({ stream, label, muted }: { stream: MediaStream | null; label: string; muted: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = stream;
  }, [stream]);
  return (
    <figure class="video">
      <video ref={ref} autoplay playsInline muted={muted} aria-label={label} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

export default function ConsultPage() {
  const t = useT(strings);
  const { params } = useRoute();
  const appointmentId = params.id ?? "";
  useDocumentTitle(t("title"));
  const media = useLocalMedia();
  const [phase, setPhase] = useState<Phase>("preview");
  const isDoctor = user.value?.role === "doctor";

  return (
    <div class="page consult">
      <h1>{t("title")}</h1>
      <div class="consult-layout">
        <section class="card call" aria-labelledby="call-title">
          <h2 id="call-title">{t("waitingRoom")}</h2>
          {phase === "ended" ? (
            <>
              <Alert tone="info">{t("ended")}</Alert>
              <Button onClick={() => setPhase("preview")}>{t("rejoin")}</Button>
            </>
          ) : (
            <>
              <p class="hint">{isDoctor ? t("doctorHint") : t("previewHint")}</p>
              {media.problem && <Alert>{t(media.problem)}</Alert>}
              <div class="videos">
                <Video stream={media.stream} label={t("you")} muted />
                <Video stream={null} label={t("remote")} muted={false} />
              </div>
              <div class="actions" role="toolbar" aria-label={t("title")}>
                {!media.stream ? (
                  <Button busy={media.starting} busyLabel={t("starting")} onClick={() => void media.start()}>
                    {t("startCamera")}
                  </Button>
                ) : (
                  <>
                    <Button variant="secondary" aria-pressed={media.muted} onClick={media.toggleMute}>
                      {media.muted ? t("unmute") : t("mute")}
                    </Button>
                    <Button variant="secondary" aria-pressed={media.cameraOff} onClick={media.toggleCamera}>
                      {media.cameraOff ? t("cameraOn") : t("cameraOff")}
                    </Button>
                  </>
                )}
                {phase === "preview" && !isDoctor && <Button onClick={() => setPhase("waiting")}>{t("ready")}</Button>}
                <Button
                  variant="danger"
                  onClick={() => {
                    media.stop();
                    setPhase("ended");
                  }}
                >
                  {t("hangUp")}
                </Button>
              </div>
              {phase === "waiting" && <Alert tone="info">{t("waitingForDoctor")}</Alert>}
            </>
          )}
        </section>
        <ChatPanel appointmentId={appointmentId} />
      </div>
    </div>
  );
}
