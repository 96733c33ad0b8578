// The third participant on a party's page: invite (a single-use link), the doctor admits or
// refuses the invitee, and the invitee's video (docs/realtime.md, "Third participant").
import { useEffect, useState } from "preact/hooks";
import type { Socket } from "socket.io-client";
import { Alert } from "../../components/Status";
import { errorMessage } from "../../lib/errors";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import type { CallRole } from "../../lib/teleconsult";
import type { CallController, CallState } from "./call";
import { guestStrings } from "./guestStrings";
import { GuestsController, type GuestsState } from "./guests";
import { VideoTile } from "./VideoTile";

export function useGuests(socket: Socket | null, call: CallController | null, local: MediaStream | null) {
  const [controller, setController] = useState<GuestsController | null>(null);
  const [state, setState] = useState<GuestsState | null>(null);
  useEffect(() => {
    if (!socket || !call) return;
    const made = new GuestsController(socket, {
      get session() {
        return call.session;
      },
      get rtcConfig() {
        return call.rtcConfig;
      },
      get localStream() {
        return call.localStream;
      },
    });
    call.onJoined = (joined) => made.known(joined.guest);
    setController(made);
    setState(made.state);
    const unsubscribe = made.subscribe(() => setState(made.state));
    return () => {
      unsubscribe();
      call.onJoined = null;
      made.dispose();
    };
  }, [socket, call]);
  useEffect(() => controller?.setLocal(local), [controller, local]);
  return { controller, state };
}

interface Props {
  role: CallRole;
  call: CallState;
  controller: GuestsController;
  state: GuestsState;
}

export function GuestPanel({ role, call, controller, state }: Props) {
  const t = useT(guestStrings);
  const tc = useT(common);
  if (call.phase !== "call" || !call.started) return null;
  const guest = state.guest;
  const name = guest?.display_name ?? "";
  const what = guest ? t(guest.role) : "";
  return (
    <section class="card guest-panel" aria-labelledby="guest-title">
      <h2 id="guest-title">{t("guestTitle")}</h2>
      {state.problem !== undefined && <Alert>{errorMessage(state.problem, tc)}</Alert>}
      {!guest && !state.inviteUrl && (
        <>
          <p class="hint">{t("guestIntro")}</p>
          <button type="button" class="btn" onClick={() => void controller.invite()}>
            {t("invite")}
          </button>
        </>
      )}
      {!guest && state.inviteUrl && (
        <div class="field">
          <label for="invite-link">{t("inviteLink")}</label>
          <input id="invite-link" class="invite-link" readOnly value={state.inviteUrl} onFocus={(e) => e.currentTarget.select()} />
          <p class="hint">{t("inviteHint")}</p>
          <button type="button" class="btn" onClick={() => void controller.withdraw()}>
            {t("withdraw")}
          </button>
        </div>
      )}
      {guest?.status === "waiting" && role === "doctor" && (
        <div role="status" aria-live="polite">
          <p class="guest-waiting">{t("guestWaiting", { name, role: what })}</p>
          <div class="actions">
            <button type="button" class="btn btn-primary" onClick={() => void controller.admit()}>
              {t("admitGuest", { name })}
            </button>
            <button type="button" class="btn" onClick={() => void controller.refuse()}>
              {t("refuseGuest", { name })}
            </button>
          </div>
        </div>
      )}
      {guest?.status === "admitted" && (
        <>
          <p class="guest-in" role="status" aria-live="polite">
            {t("guestIn", { name, role: what })}
          </p>
          {role === "doctor" && (
            <div class="actions">
              <button type="button" class="btn" onClick={() => void controller.refuse()}>
                {t("removeGuest", { name })}
              </button>
            </div>
          )}
          <VideoTile stream={state.remote} caption={`${name} (${what})`} class="video-guest" />
        </>
      )}
    </section>
  );
}
