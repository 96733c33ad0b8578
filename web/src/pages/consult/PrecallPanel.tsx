// The pre-call check in the lobby and waiting room: camera (the preview above), microphone
// level, a test sound, and the network check with its verdict, kept on the session for the
// doctor. The doctor sees the patient's latest result here instead.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Socket } from "socket.io-client";
import { Button } from "../../components/Button";
import { useAction } from "../../lib/hooks";
import { useT, type Translate } from "../../lib/i18n";
import type { CallController, CallState } from "./call";
import { measureNetwork, readChecks, saveCheck, verdictOf, type DeviceState, type PrecallCheck, type SavedCheck } from "./precall";
import { strings } from "./strings";
import type { LocalMedia } from "./useLocalMedia";

interface Props {
  socket: Socket | null;
  state: CallState;
  controller: CallController;
  media: LocalMedia;
  name: string;
}

const VERDICT = { good: "verdictGood", audio_only: "verdictAudioOnly", cannot_connect: "verdictCannotConnect" } as const;
const REFRESH_MS = 5_000;

function deviceState(media: LocalMedia, kind: "audio" | "video"): DeviceState {
  if (media.stream?.getTracks().some((t) => t.kind === kind)) return "ok";
  if (media.problem === "denied") return "denied";
  if (media.problem === "noDevice") return "missing";
  return "error";
}

/** The microphone's loudness now, 0..1 (an analyser on the local stream). */
function useLevel(stream: MediaStream | null): number {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!stream || stream.getAudioTracks().length === 0) return;
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      const peak = samples.reduce((most, s) => Math.max(most, Math.abs(s - 128)), 0);
      setLevel(Math.min(1, peak / 64));
    }, 200);
    return () => {
      clearInterval(timer);
      void context.close();
    };
  }, [stream]);
  return level;
}

function playTestSound(): void {
  const context = new AudioContext();
  const tone = context.createOscillator();
  tone.frequency.value = 440;
  tone.connect(context.destination);
  tone.start();
  tone.stop(context.currentTime + 0.6);
  tone.onended = () => void context.close();
}

export function PrecallPanel({ socket, state, controller, media, name }: Props) {
  const t = useT(strings);
  const level = useLevel(media.stream);
  const [result, setResult] = useState<PrecallCheck | null>(null);
  const saved = useRef<PrecallCheck | null>(null);
  const sessionId = controller.session;
  const check = useAction(async () => {
    const network = socket ? await measureNetwork(socket) : null;
    const camera = deviceState(media, "video");
    setResult({
      verdict: verdictOf(network, camera),
      camera,
      microphone: deviceState(media, "audio"),
      rtt_ms: network?.rttMs ?? null,
      throughput_kbps: network?.throughputKbps ?? null,
    });
  });
  // Kept on the session as soon as there is one (the patient's opens on entering).
  useEffect(() => {
    if (result && sessionId && saved.current !== result) {
      saved.current = result;
      void saveCheck(sessionId, result).catch(() => (saved.current = null));
    }
  }, [result, sessionId]);
  return (
    <section class="card precall" aria-labelledby="precall-title">
      <h2 id="precall-title">{t("precallTitle")}</h2>
      <DevicePicker media={media} kind="video" label={t("camera")} />
      <DevicePicker media={media} kind="audio" label={t("microphone")} />
      <p>
        <label for="mic-level">{t("micLevel")}</label>{" "}
        <meter id="mic-level" min={0} max={1} value={level} />
      </p>
      <div class="actions">
        <Button variant="secondary" onClick={playTestSound}>
          {t("testSound")}
        </Button>
        <Button busy={check.busy} busyLabel={t("checking")} onClick={() => void check.run()}>
          {t("checkConnection")}
        </Button>
      </div>
      <p class="precall-verdict" role="status" aria-live="polite">
        {result && <CheckText check={result} t={t} />}
      </p>
      {state.role === "doctor" && sessionId && state.peerPresent && <PatientCheck sessionId={sessionId} name={name} />}
    </section>
  );
}

function DevicePicker({ media, kind, label }: { media: LocalMedia; kind: "audio" | "video"; label: string }) {
  const listed = media.devices.filter((d) => d.kind === `${kind}input`);
  if (listed.length === 0) return null;
  const id = `device-${kind}`;
  const inUse = media.stream?.getTracks().find((t) => t.kind === kind)?.getSettings().deviceId ?? "";
  return (
    <p class="field">
      <label for={id}>{label}</label>{" "}
      <select id={id} value={media.chosen[kind] || inUse} onChange={(e) => void media.choose(kind, e.currentTarget.value)}>
        {listed.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || `${label} ${i + 1}`}
          </option>
        ))}
      </select>
    </p>
  );
}

function CheckText({ check, t }: { check: PrecallCheck; t: Translate<keyof typeof strings.en> }) {
  const figures =
    check.rtt_ms !== null && check.throughput_kbps !== null
      ? ` ${t("checkFigures", { rtt: String(check.rtt_ms), mbps: (check.throughput_kbps / 1000).toFixed(1) })}`
      : "";
  const camera = check.camera === "ok" ? "" : ` ${t("cameraUnavailable")}`;
  return (
    <>
      {t(VERDICT[check.verdict])}
      {camera}
      {figures}
    </>
  );
}

/** The doctor's view of the patient's latest check, read again every few seconds. */
function PatientCheck({ sessionId, name }: { sessionId: string; name: string }) {
  const t = useT(strings);
  const [check, setCheck] = useState<SavedCheck | null>(null);
  useEffect(() => {
    const load = () =>
      void readChecks(sessionId)
        .then(({ checks }) => setCheck(checks.find((c) => c.role === "patient") ?? null))
        .catch(() => undefined);
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, [sessionId]);
  return (
    <p class="precall-patient" aria-live="polite">
      {check ? (
        <>
          {t("patientCheck", { name })} <CheckText check={check} t={t} />
        </>
      ) : (
        t("patientNoCheck", { name })
      )}
    </p>
  );
}
