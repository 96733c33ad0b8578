// One video with its caption; a placeholder while there is no picture, and a play button when
// the browser blocks autoplay with sound.
import { useEffect, useRef, useState } from "preact/hooks";
import { useT } from "../../lib/i18n";
import { strings } from "./strings";

interface Props {
  stream: MediaStream | null;
  caption: string;
  /** Shown over the tile when there is no picture (camera off, not connected yet). */
  placeholder?: string | undefined;
  /** Our own preview: silent (no echo) and mirrored like a looking glass. */
  self?: boolean;
  class?: string;
}

export function VideoTile({ stream, caption, placeholder, self = false, class: extra = "" }: Props) {
  const t = useT(strings);
  const ref = useRef<HTMLVideoElement>(null);
  const [blocked, setBlocked] = useState(false);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = stream;
    setBlocked(false);
    if (stream) video.play().catch(() => setBlocked(!self));
  }, [stream, self]);
  const resume = () => {
    setBlocked(false);
    void ref.current?.play().catch(() => setBlocked(true));
  };
  return (
    <figure class={`video ${self ? "video-self" : "video-remote"} ${extra}`}>
      <video ref={ref} autoplay playsInline muted={self} />
      {(placeholder || !stream) && (
        <p class="video-placeholder" aria-hidden="true">
          {placeholder ?? t("noVideoYet")}
        </p>
      )}
      {blocked && (
        <button type="button" class="btn btn-primary video-play" onClick={resume}>
          {t("play")}
        </button>
      )}
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
