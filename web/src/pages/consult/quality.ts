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

/** Packet counters at the last sample (getStats counts from the start of the connection). */
export interface Counted {
  lost: number;
  received: number;
}

/** One getStats report as a sample: the nominated, succeeded candidate pair's round trip and
 * outgoing bitrate, and the packets lost among those received since `counted`. Null before a
 * candidate pair succeeded. */
export function sampleOf(
  reports: Iterable<Record<string, unknown>>,
  counted: Counted,
): { sample: LinkSample; counted: Counted } | null {
  let rttS: number | undefined;
  let bitrate: number | undefined;
  let lost = 0;
  let received = 0;
  for (const report of reports) {
    if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") {
      rttS = typeof report.currentRoundTripTime === "number" ? report.currentRoundTripTime : undefined;
      bitrate = typeof report.availableOutgoingBitrate === "number" ? report.availableOutgoingBitrate : undefined;
    }
    if (report.type === "inbound-rtp") {
      lost += Number(report.packetsLost ?? 0);
      received += Number(report.packetsReceived ?? 0);
    }
  }
  if (rttS === undefined) return null;
  const newlyLost = Math.max(0, lost - counted.lost);
  const newlyReceived = Math.max(0, received - counted.received);
  const loss = newlyLost + newlyReceived > 0 ? newlyLost / (newlyLost + newlyReceived) : 0;
  return { sample: { loss, rttS, bitrate }, counted: { lost, received } };
}

// So many poor samples in a row pause the video, so many good ones resume it: the hysteresis
// keeps a link that wavers from switching back and forth (fair samples neither pause nor resume).
export const POOR_TO_PAUSE = 2;
export const GOOD_TO_RESUME = 3;

export interface PauseState {
  paused: VideoPause;
  /** The latest samples, oldest first (as many as the longer streak needs). */
  recent: Quality[];
}

/** The automatic weak-link switch: the video's state after one more sample. A pause by hand
 * is never lifted here; a weak-link pause only by GOOD_TO_RESUME good samples in a row. */
export function nextPause({ paused, recent }: PauseState, quality: Quality): PauseState {
  const samples = [...recent, quality].slice(-Math.max(POOR_TO_PAUSE, GOOD_TO_RESUME));
  const streak = (q: Quality, n: number) => samples.length >= n && samples.slice(-n).every((s) => s === q);
  if (paused === null && streak("poor", POOR_TO_PAUSE)) return { paused: "weak_link", recent: samples };
  if (paused === "weak_link" && streak("good", GOOD_TO_RESUME)) return { paused: null, recent: samples };
  return { paused, recent: samples };
}
