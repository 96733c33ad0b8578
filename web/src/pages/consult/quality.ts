// The link's quality from one getStats sample (docs/realtime.md, "Audio only and link quality").
export type Quality = "good" | "fair" | "poor";

/** Why this party's video is paused: by its own button, or for a weak link (null: sending). */
export type VideoPause = "manual" | "weak_link" | null;

export interface LinkSample {
  /** Received packets lost since the last sample, as a fraction (0..1). */
  loss: number;
  /** The candidate pair's current round-trip time, in seconds. */
  rttS: number;
  /** The available outgoing bitrate, bit/s (undefined when the browser does not say). */
  bitrate: number | undefined;
}

export function rate({ loss, rttS, bitrate }: LinkSample): Quality {
  const below = (bps: number) => bitrate !== undefined && bitrate < bps;
  if (loss > 0.1 || rttS > 0.6 || below(150_000)) return "poor";
  if (loss > 0.03 || rttS > 0.3 || below(400_000)) return "fair";
  return "good";
}
