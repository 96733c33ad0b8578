// An appointment's status as a coloured word (the colour is never the only signal).
import { useT } from "../lib/i18n";
import { common } from "../lib/strings";
import type { AppointmentStatus } from "../lib/types";

export function StatusBadge({ status }: { status: AppointmentStatus }) {
  const tc = useT(common);
  return <span class={`status-badge status-${status}`}>{tc(`status_${status}`)}</span>;
}
