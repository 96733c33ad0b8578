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
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      if (asked !== generation.current) {
        media.getTracks().forEach((track) => track.stop()); // stopped meanwhile (call ended)
        return;
      }
      current.current = media;
      setStream(media);
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
  };
}
