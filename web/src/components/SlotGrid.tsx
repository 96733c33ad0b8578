// Week view of free slots (viewer's time zone), with previous/next week and live status.
import { useT } from "../lib/i18n";
import type { LiveStatus } from "../lib/liveSlots";
import { defineStrings } from "../lib/i18n";
import { common } from "../lib/strings";
import {
  addDays,
  dayKey,
  differsFromViewer,
  formatDay,
  formatLongDate,
  formatTime,
  startOfWeek,
  viewerZone,
  zoneName,
} from "../lib/time";
import type { Slot } from "../lib/types";
import { ErrorView, Loading } from "./Status";
import "./SlotGrid.css";

const strings = defineStrings({
  en: {
    week: "Week of {date}",
    previous: "Previous week",
    next: "Next week",
    noSlots: "No free slot this week.",
    nextWeekHint: "Try the next week.",
    pick: "Book {day} at {time}",
    free: "free slots",
    none: "—",
    live: "Live: slots update as others book",
  },
  fr: {
    week: "Semaine du {date}",
    previous: "Semaine précédente",
    next: "Semaine suivante",
    noSlots: "Aucun créneau libre cette semaine.",
    nextWeekHint: "Essayez la semaine suivante.",
    pick: "Réserver {day} à {time}",
    free: "créneaux libres",
    none: "—",
    live: "En direct : les créneaux se mettent à jour",
  },
});

interface Props {
  weekStart: Date;
  onWeekChange: (weekStart: Date) => void;
  slots: Slot[];
  loading: boolean;
  error: unknown;
  status: LiveStatus;
  doctorZone: string;
  onPick: (slot: Slot) => void;
  selected?: Slot | null;
}

export function SlotGrid({ weekStart, onWeekChange, slots, loading, error, status, doctorZone, onPick, selected }: Props) {
  const t = useT(strings);
  const tc = useT(common);
  const days = Array.from({ length: 7 }, (_, i) => addDays(weekStart, i));
  const byDay = new Map<string, Slot[]>();
  for (const slot of slots) {
    const key = dayKey(slot.start);
    byDay.set(key, [...(byDay.get(key) ?? []), slot]);
  }
  const isCurrentWeek = weekStart.getTime() <= startOfWeek(new Date()).getTime();

  return (
    <section class="slot-grid" aria-labelledby="slot-grid-title" aria-busy={loading} data-week={dayKey(weekStart)}>
      <div class="slot-grid-nav">
        <button type="button" class="btn btn-secondary" disabled={isCurrentWeek} onClick={() => onWeekChange(addDays(weekStart, -7))}>
          <span aria-hidden="true">‹</span> {t("previous")}
        </button>
        <h3 id="slot-grid-title">{t("week", { date: formatLongDate(weekStart) })}</h3>
        <button type="button" class="btn btn-secondary" onClick={() => onWeekChange(addDays(weekStart, 7))}>
          {t("next")} <span aria-hidden="true">›</span>
        </button>
      </div>
      {differsFromViewer(doctorZone) && (
        <p class="hint">{tc("zoneNote", { viewer: zoneName(viewerZone), doctor: zoneName(doctorZone) })}</p>
      )}
      <div aria-live="polite" class="live-status">
        {status === "reconnecting" && <p class="alert alert-warning">{tc("reconnecting")}</p>}
        {status === "resynced" && <p class="alert alert-success">{tc("resynced")}</p>}
        {status === "live" && <p class="hint live-dot">{t("live")}</p>}
      </div>
      {error !== undefined && <ErrorView error={error} />}
      {loading && slots.length === 0 && <Loading />}
      {!loading && error === undefined && slots.length === 0 && (
        <p class="empty">
          {t("noSlots")} {t("nextWeekHint")}
        </p>
      )}
      <div class="days">
        {days.map((day) => {
          const daySlots = byDay.get(dayKey(day)) ?? [];
          const label = formatDay(day);
          return (
            <div class="day" key={dayKey(day)} role="group" aria-label={label}>
              <h4 class="day-name">{label}</h4>
              {daySlots.length === 0 ? (
                <p class="muted day-empty">{t("none")}</p>
              ) : (
                <ul class="day-slots">
                  {daySlots.map((slot) => (
                    <li key={`${slot.start}|${slot.visit_type}`}>
                      <button
                        type="button"
                        class={`slot ${slot.visit_type === "teleconsultation" ? "slot-video" : ""}`}
                        aria-pressed={selected ? selected.start === slot.start : undefined}
                        aria-label={`${t("pick", { day: formatLongDate(slot.start), time: formatTime(slot.start) })} (${
                          slot.visit_type === "teleconsultation" ? tc("teleconsultation") : tc("inPerson")
                        })`}
                        data-start={new Date(slot.start).toISOString()}
                        onClick={() => onPick(slot)}
                      >
                        {formatTime(slot.start)}
                        {slot.visit_type === "teleconsultation" && <span aria-hidden="true"> ▶</span>}
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}
