// The call card: where we are (heading and a live sentence), the videos, the buttons.
import { Alert } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useT, type Translate } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { formatTime } from "../../lib/time";
import type { CallController, CallState } from "./call";
import { CallActions } from "./CallActions";
import { roomTitle, statusOf } from "./callStatus";
import type { JoinWindow } from "./counterpart";
import { strings } from "./strings";
import type { LocalMedia } from "./useLocalMedia";
import { VideoTile } from "./VideoTile";

interface Props {
  state: CallState;
  controller: CallController;
  media: LocalMedia;
  /** The other party's name, or a neutral word while it loads. */
  name: string;
  /** When the video room is open, as the server says (null while it loads). */
  joinWindow: JoinWindow | null;
}

type T = Translate<keyof typeof strings.en>;

/** A refusal in plain words; the joining window names its hour. */
function problemText(problem: unknown, t: T, tc: Translate<"networkError" | "serverError" | "forbidden">): string {
  if (problem instanceof ApiError && problem.problem.type === "/problems/outside-join-window") {
    const { opens_at: opens, closes_at: closes } = problem.problem;
    if (typeof opens === "string" && Date.parse(opens) > Date.now()) return t("opensAt", { time: formatTime(opens) });
    if (typeof closes === "string") return t("closedAt", { time: formatTime(closes) });
  }
  return errorMessage(problem, tc);
}

/** Before entering, the room's hours when it is not open now (the server still decides). */
function windowText(open: JoinWindow | null, t: T, now = Date.now()): string | null {
  if (open === null) return null;
  if (Date.parse(open.opensAt) > now) return t("opensAt", { time: formatTime(open.opensAt) });
  if (Date.parse(open.closesAt) < now) return t("closedAt", { time: formatTime(open.closesAt) });
  return null;
}

const QUALITY = { good: "qualityGood", fair: "qualityFair", poor: "qualityPoor" } as const;

/** Both sides' connection quality, and whose video is paused (audio only) and why. */
function LinkNews({ state, name, t }: { state: CallState; name: string; t: T }) {
  const mine = state.quality && t("qualityMine", { quality: t(QUALITY[state.quality]) });
  const theirs = state.peerQuality && t("qualityPeer", { name, quality: t(QUALITY[state.peerQuality]) });
  const paused = { manual: "youAudioOnly", weak_link: "youAudioOnlyWeak" } as const;
  const peerPaused = { manual: "peerAudioOnly", weak_link: "peerAudioOnlyWeak" } as const;
  return (
    <div class="call-link" aria-live="polite">
      {(mine || theirs) && <p class="call-quality">{[mine, theirs].filter(Boolean).join(" · ")}</p>}
      {state.videoPaused && <p class="call-audio-only">{t(paused[state.videoPaused])}</p>}
      {state.peerVideoPaused && <p class="call-audio-only">{t(peerPaused[state.peerVideoPaused], { name })}</p>}
    </div>
  );
}

export function CallPanel({ state, controller, media, name, joinWindow }: Props) {
  const t = useT(strings);
  const tc = useT(common);
  const status = statusOf(state);
  const hours = state.phase === "lobby" && state.problem === undefined ? windowText(joinWindow, t) : null;
  const showRemote = state.phase === "call";
  return (
    <section class="card call" aria-labelledby="call-title">
      <h2 id="call-title">{t(roomTitle(state))}</h2>
      <p class={`call-status call-status-${status.tone}`} role="status" aria-live="polite">
        {t(status.key, { name })}
        {media.muted && state.phase !== "ended" && <span class="call-muted"> {t("micMuted")}</span>}
      </p>
      {state.phase === "call" && state.started && <LinkNews state={state} name={name} t={t} />}
      {hours && <p class="hint">{hours}</p>}
      {state.problem !== undefined && <Alert>{problemText(state.problem, t, tc)}</Alert>}
      {media.problem && <Alert>{t(media.problem)}</Alert>}
      {state.phase !== "ended" && (
        <div class={`videos ${showRemote ? "videos-call" : ""}`}>
          {showRemote && (
            <VideoTile stream={state.remote} caption={name} />
          )}
          <VideoTile
            stream={media.stream}
            caption={t("you")}
            placeholder={media.cameraOff ? t("yourCameraOff") : undefined}
            self
          />
        </div>
      )}
      <CallActions state={state} controller={controller} media={media} name={name} />
    </section>
  );
}
