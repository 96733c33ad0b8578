// A doctor's live week grid: owns the viewed week and the live subscription for it.
import { useState } from "preact/hooks";
import { useLiveSlots } from "../lib/liveSlots";
import { addDays, startOfWeek } from "../lib/time";
import type { Slot, VisitType } from "../lib/types";
import { SlotGrid } from "./SlotGrid";

interface Props {
  doctorId: string;
  doctorZone: string;
  visitType: VisitType | "";
  reasonId: string;
  onPick: (slot: Slot) => void;
  selected?: Slot | null;
  /** Moving this appointment: its own time shows as free, slots take its length. */
  excludingAppointmentId?: string;
}

export function LiveSlotPicker({ doctorId, doctorZone, visitType, reasonId, onPick, selected, excludingAppointmentId }: Props) {
  const [weekStart, setWeekStart] = useState(() => startOfWeek(new Date()));
  const live = useLiveSlots({
    doctorId,
    from: weekStart,
    to: addDays(weekStart, 7),
    visitType,
    reasonId,
    ...(excludingAppointmentId ? { excludingAppointmentId } : {}),
  });
  return (
    <SlotGrid
      weekStart={weekStart}
      onWeekChange={setWeekStart}
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
