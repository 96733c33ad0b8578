// Today's standing of an appointment: position in the doctor's queue and, when the doctor runs
// late (said, or a visit running over), the expected start. Re-read live when the server says
// the day changed (`queue.updated` on /notifications), and every minute (an overrun grows).
import { useEffect } from "preact/hooks";
import { useAsync } from "../lib/hooks";
import { defineStrings, useT } from "../lib/i18n";
import { openSocket } from "../lib/socket";
import { formatTime } from "../lib/time";
import { appointmentQueue } from "../lib/waitlist";

const strings = defineStrings({
  en: {
    position: "You are number {position} in the doctor’s queue today.",
    late: "The doctor is running about {minutes} min late: expected start {time}.",
  },
  fr: {
    position: "Vous êtes le numéro {position} dans la file du médecin aujourd’hui.",
    late: "Le médecin a environ {minutes} min de retard : début prévu à {time}.",
  },
});

const REFRESH_MS = 60_000;

export function QueueBanner({ appointmentId }: { appointmentId: string }) {
  const t = useT(strings);
  const standing = useAsync((signal) => appointmentQueue(appointmentId, signal).catch(() => null), [appointmentId]);
  const reload = standing.reload;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    const socket = openSocket("/notifications");
    socket.on("notification", (note: { kind: string }) => {
      if (note.kind === "queue.updated") reload();
    });
    return () => {
      clearInterval(timer);
      socket.close();
    };
  }, [reload]);
  const data = standing.data;
  if (!data) return null;
  return (
    <div class="alert alert-info queue-banner" role="status" data-testid="queue-banner">
      <p>{t("position", { position: data.position })}</p>
      {data.delay_minutes > 0 && (
        <p>
          <strong>{t("late", { minutes: data.delay_minutes, time: formatTime(data.expected_start) })}</strong>
        </p>
      )}
    </div>
  );
}
