// A third participant's invitation link: who the consultation is with and when, the invitee's
// name and role, the waiting room, then the three-way call and its chat. Nothing else of the
// patient is ever shown here (docs/realtime.md, "Third participant").
import { useRoute } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { Alert, Loading } from "../../components/Status";
import { api } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { formatLongDate, formatTime } from "../../lib/time";
import { guestStrings } from "../consult/guestStrings";
import { useLocalMedia } from "../consult/useLocalMedia";
import { VideoTile } from "../consult/VideoTile";
import { GuestCall, type GuestCallState, type GuestGrant } from "./guestCall";
import "../consult/consult.css";

interface Preview {
  doctor_name: string;
  start: string;
}

type Role = "carer" | "interpreter" | "clinician";
const ROLES: Role[] = ["carer", "interpreter", "clinician"];

export default function InvitePage() {
  const t = useT(guestStrings);
  const tc = useT(common);
  const { params } = useRoute();
  const token = params.token ?? "";
  useDocumentTitle(t("inviteTitle"));
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<unknown>(undefined);
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("carer");
  const [grant, setGrant] = useState<GuestGrant | null>(null);
  const [call, setCall] = useState<GuestCall | null>(null);
  const [state, setState] = useState<GuestCallState | null>(null);
  const [draft, setDraft] = useState("");
  const media = useLocalMedia();

  useEffect(() => {
    api<Preview>("/teleconsultation/invite/preview", { method: "POST", body: { token } }).then(setPreview, setProblem);
  }, [token]);
  useEffect(() => {
    if (!grant) return;
    const made = new GuestCall(grant, media.stream);
    setCall(made);
    setState(made.state);
    const off = made.subscribe(() => setState(made.state));
    return () => {
      off();
      made.dispose();
    };
  }, [grant]);
  useEffect(() => call?.setLocal(media.stream), [call, media.stream]);
  useEffect(() => {
    if (state?.phase === "ended" || state?.phase === "refused") media.stop();
  }, [state?.phase]);

  const enter = async (event: Event) => {
    event.preventDefault();
    try {
      await media.start();
      setGrant(await api<GuestGrant>("/teleconsultation/invite/use", { method: "POST", body: { token, display_name: name.trim(), role } }));
      setProblem(undefined);
    } catch (error) {
      setProblem(error);
    }
  };
  const send = (event: Event) => {
    event.preventDefault();
    if (!draft.trim() || !call) return;
    void call.say(draft.trim());
    setDraft("");
  };

  const doctor = grant?.doctor_name ?? preview?.doctor_name ?? "";
  const status =
    state?.phase === "waiting" || state?.phase === "connecting"
      ? t("guestWaitingRoom")
      : state?.phase === "call"
        ? t("guestAdmitted", { doctor })
        : state?.phase === "refused"
          ? t("guestRefused")
          : state?.phase === "ended"
            ? t("guestEnded")
            : null;
  return (
    <div class="page consult invite">
      <h1>{t("inviteTitle")}</h1>
      {preview && <p class="muted">{t("inviteWith", { doctor: preview.doctor_name, day: formatLongDate(preview.start), time: formatTime(preview.start) })}</p>}
      {problem !== undefined && <Alert>{errorMessage(problem, tc)}</Alert>}
      {!preview && problem === undefined && <Loading />}
      {preview && !grant && (
        <form class="card" onSubmit={(e) => void enter(e)}>
          <div class="field">
            <label for="guest-name">{t("yourName")}</label>
            <input id="guest-name" required maxLength={80} autocomplete="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="guest-role">{t("yourRole")}</label>
            <select id="guest-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(r)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="btn btn-primary">
            {t("enter")}
          </button>
        </form>
      )}
      {grant && state && (
        <div class="consult-layout">
          <section class="card call" aria-labelledby="guest-call-title">
            <h2 id="guest-call-title">{t("callTitle")}</h2>
            {status && (
              <p class="call-status" role="status" aria-live="polite">
                {status}
              </p>
            )}
            {state.phase !== "ended" && state.phase !== "refused" && (
              <div class="videos videos-call">
                {state.phase === "call" &&
                  (["doctor", "patient"] as const).map(
                    (seat) =>
                      seat in state.remotes && (
                        <VideoTile key={seat} stream={state.remotes[seat] ?? null} caption={t(seat)} class={`video-${seat}`} />
                      ),
                  )}
                <VideoTile stream={media.stream} caption={t("you")} self />
              </div>
            )}
          </section>
          {state.phase === "call" && (
            <section class="card chat" aria-labelledby="guest-chat-title">
              <h2 id="guest-chat-title">{t("chatTitle")}</h2>
              <ul class="messages" aria-live="polite">
                {state.messages.map((m) => (
                  <li key={m.id} class={m.mine ? "mine" : ""}>
                    {m.body}
                  </li>
                ))}
              </ul>
              <form onSubmit={send}>
                <label for="guest-message">{t("message")}</label>
                <input id="guest-message" value={draft} maxLength={2000} onInput={(e) => setDraft(e.currentTarget.value)} />
                <button type="submit" class="btn">
                  {t("send")}
                </button>
              </form>
            </section>
          )}
        </div>
      )}
    </div>
  );
}
