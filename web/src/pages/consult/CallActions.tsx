// The call's buttons: join, admit, microphone, camera, reconnect, leave or end.
import { Button } from "../../components/Button";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import type { CallController, CallState } from "./call";
import { strings } from "./strings";
import type { LocalMedia } from "./useLocalMedia";

interface Props {
  state: CallState;
  controller: CallController;
  media: LocalMedia;
  name: string;
}

export function CallActions({ state, controller, media, name }: Props) {
  const t = useT(strings);
  const join = useAction(() => controller.join());
  const admit = useAction(() => controller.admit());
  // The doctor's hang-up ends the consultation for both; before it started it only leaves.
  const ends = state.role === "doctor" && state.started;
  const hangUp = useAction(() => (ends ? controller.end() : controller.leave()));
  const { phase } = state;
  const inRoom = phase === "waiting" || phase === "call";
  return (
    <div class="actions call-actions" role="group" aria-label={t("callControls")}>
      {(phase === "lobby" || phase === "joining" || phase === "left") && (
        <Button busy={phase === "joining" || join.busy} busyLabel={t("joining")} onClick={() => void join.run()}>
          {phase === "left" ? t("rejoin") : t(state.role === "doctor" ? "enterRoom" : "enterWaitingRoom")}
        </Button>
      )}
      {state.peerWaiting && phase === "call" && (
        <Button busy={admit.busy} busyLabel={t("admitting")} onClick={() => void admit.run()}>
          {t("admit", { name })}
        </Button>
      )}
      {phase !== "ended" && media.stream && (
        <>
          <Button variant="secondary" onClick={media.toggleMute}>
            {media.muted ? t("unmute") : t("mute")}
          </Button>
          <Button variant="secondary" onClick={media.toggleCamera}>
            {media.cameraOff ? t("cameraOn") : t("cameraOff")}
          </Button>
        </>
      )}
      {phase === "call" && state.started && media.stream && (
        <Button variant="secondary" aria-pressed={state.videoPaused !== null} onClick={() => void controller.toggleAudioOnly()}>
          {state.videoPaused === null ? t("audioOnly") : t("videoBack")}
        </Button>
      )}
      {phase !== "ended" && !media.stream && (
        <Button variant="secondary" busy={media.starting} busyLabel={t("starting")} onClick={() => void media.start()}>
          {t("startCamera")}
        </Button>
      )}
      {phase === "call" && state.link === "failed" && (
        <Button variant="secondary" onClick={() => void controller.reconnect()}>
          {t("reconnectVideo")}
        </Button>
      )}
      {inRoom && (
        <Button variant="danger" busy={hangUp.busy} busyLabel={t("ending")} onClick={() => void hangUp.run()}>
          {ends ? t("end") : phase === "waiting" ? t("leaveWaiting") : t("leave")}
        </Button>
      )}
      {phase === "ended" && (
        <a class="btn btn-primary" href={state.role === "doctor" ? "/agenda" : "/appointments"}>
          {state.role === "doctor" ? t("backToAgenda") : t("backToAppointments")}
        </a>
      )}
    </div>
  );
}
