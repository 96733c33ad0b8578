// The local camera and microphone: start, mute, camera off, stop; failures in plain words.
import { useEffect, useRef, useState } from "preact/hooks";

export type MediaProblem = "denied" | "noDevice" | "mediaError";

export interface LocalMedia {
  stream: MediaStream | null;
  starting: boolean;
  problem: MediaProblem | null;
  muted: boolean;
  cameraOff: boolean;
  start: () => Promise<void>;
  toggleMute: () => void;
  toggleCamera: () => void;
  stop: () => void;
  /** The cameras and microphones the browser lists (labels once access was granted). */
  devices: MediaDeviceInfo[];
  /** The chosen device of a kind ("" : the browser's default), and choosing another. */
  chosen: { audio: string; video: string };
  choose: (kind: "audio" | "video", deviceId: string) => Promise<void>;
}

function problemOf(error: unknown): MediaProblem {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return "denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "noDevice";
  return "mediaError";
}

export function useLocalMedia(): LocalMedia {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [starting, setStarting] = useState(false);
  const [problem, setProblem] = useState<MediaProblem | null>(null);
  const [muted, setMuted] = useState(false);
  const [cameraOff, setCameraOff] = useState(false);
  const current = useRef<MediaStream | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [chosen, setChosen] = useState({ audio: "", video: "" });
  const wanted = useRef({ audio: "", video: "" });
  // Bumped by stop: a getUserMedia still pending then is stopped as soon as it answers.
  const generation = useRef(0);

  const stop = () => {
    generation.current += 1;
    current.current?.getTracks().forEach((track) => track.stop());
    current.current = null;
    setStream(null);
  };
  useEffect(() => stop, []);

  const start = async () => {
    if (current.current) return; // already on (the page starts it, a button may ask again)
    const asked = generation.current;
    setStarting(true);
    setProblem(null);
    try {
      const pick = (id: string) => (id ? { deviceId: { exact: id } } : true);
      const { audio, video } = wanted.current;
      const media = await navigator.mediaDevices.getUserMedia({ video: pick(video), audio: pick(audio) });
      if (asked !== generation.current) {
        media.getTracks().forEach((track) => track.stop()); // stopped meanwhile (call ended)
        return;
      }
      current.current = media;
      setStream(media);
      setDevices((await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind !== "audiooutput"));
      setMuted(false);
      setCameraOff(false);
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setStarting(false);
    }
  };
  const toggle = (kind: "audio" | "video", off: boolean, set: (value: boolean) => void) => {
    current.current?.getTracks().filter((t) => t.kind === kind).forEach((t) => (t.enabled = off));
    set(!off);
  };
  return {
    stream,
    starting,
    problem,
    muted,
    cameraOff,
    start,
    toggleMute: () => toggle("audio", muted, setMuted),
    toggleCamera: () => toggle("video", cameraOff, setCameraOff),
    stop,
    devices,
    chosen,
    choose: async (kind, deviceId) => {
      wanted.current = { ...wanted.current, [kind]: deviceId };
      setChosen(wanted.current);
      stop();
      await start();
    },
  };
}
