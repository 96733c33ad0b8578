// A doctor's live week grid: owns the viewed week and the live subscription for it.
import { useEffect, useState } from "preact/hooks";
import { useLiveSlots } from "../lib/liveSlots";
import { availableSlots } from "../lib/scheduling";
import { addDays, startOfWeek } from "../lib/time";
import type { Slot, VisitType } from "../lib/types";
import { SlotGrid } from "./SlotGrid";

/** How far past the current week the grid looks for a first free slot (the API's range cap). */
const NEXT_SLOT_SEARCH_DAYS = 28;

interface Props {
  doctorId: string;
  doctorZone: string;
  visitType: VisitType | "";
  reasonId: string;
  onPick: (slot: Slot) => void;
  selected?: Slot | null;
  /** Moving this appointment: its own time shows as free, slots take its length. */
  excludingAppointmentId?: string;
  /** Called when the doctor changed their availability (hours, reasons, settings). */
  onAvailabilityChanged?: () => void;
}

export function LiveSlotPicker({
  doctorId,
  doctorZone,
  visitType,
  reasonId,
  onPick,
  selected,
  excludingAppointmentId,
  onAvailabilityChanged,
}: Props) {
  const [weekStart, setWeekStart] = useState(() => startOfWeek(new Date()));
  // Until the person picks a week, an empty current week (every Sunday evening, weekends for
  // weekday practices) gives way to the week of the next free slot.
  const [chosen, setChosen] = useState(false);
  const query = { doctorId, visitType, reasonId, ...(excludingAppointmentId ? { excludingAppointmentId } : {}) };
  const live = useLiveSlots({
    ...query,
    from: weekStart,
    to: addDays(weekStart, 7),
    ...(onAvailabilityChanged ? { onAvailabilityChanged } : {}),
  });
  const empty = !live.loading && live.error === undefined && live.slots.length === 0;
  useEffect(() => {
    if (chosen || !empty) return;
    const controller = new AbortController();
    const from = addDays(weekStart, 7);
    availableSlots({ ...query, from, to: addDays(from, NEXT_SLOT_SEARCH_DAYS) }, controller.signal)
      .then((page) => {
        const first = page.slots[0];
        if (first) setWeekStart(startOfWeek(new Date(first.start)));
        setChosen(true);
      })
      .catch(() => {
        // Aborted: the week filled or changed meanwhile, and this effect runs again if need be.
        // Failed: the empty week and its hint stay.
        if (!controller.signal.aborted) setChosen(true);
      });
    return () => controller.abort();
  }, [chosen, empty]);
  const pickWeek = (week: Date) => {
    setChosen(true);
    setWeekStart(week);
  };
  return (
    <SlotGrid
      weekStart={weekStart}
      onWeekChange={pickWeek}
      slots={live.slots}
      loading={live.loading}
      error={live.error}
      status={live.status}
      doctorZone={doctorZone}
      onPick={onPick}
      selected={selected ?? null}
    />
  );
}
