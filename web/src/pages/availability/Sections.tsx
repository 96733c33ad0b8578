// The editor's sections: weekly hours, exceptions, reasons, booking rules.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { useT } from "../../lib/i18n";
import { locale } from "../../lib/i18n";
import { amountPattern, majorAmount, minorAmount } from "../../lib/money";
import { common } from "../../lib/strings";
import type { DateException, SchedulingSettings, VisitReason, VisitType, WeeklyRule } from "../../lib/types";
import { endsNextDay, newException, newReason, newRule, patchAt } from "./model";
import { strings } from "./strings";

type Setter<T> = (next: T) => void;

function useVisitTypes() {
  const tc = useT(common);
  return [
    { value: "in-person", label: tc("inPerson") },
    { value: "teleconsultation", label: tc("teleconsultation") },
  ];
}

/** A hint under an end time that falls on the next day (night hours, on-call). */
function useNextDayHint(): (start: string | null, end: string | null) => { hint?: string } {
  const t = useT(strings);
  return (start, end) => (endsNextDay(start, end) ? { hint: t("nextDay") } : {});
}

function weekdays(): { value: string; label: string }[] {
  // 2024-01-01 was a Monday: ISO day n is that date + n - 1.
  const format = new Intl.DateTimeFormat(locale.value, { weekday: "long" });
  return Array.from({ length: 7 }, (_, i) => ({ value: String(i + 1), label: format.format(new Date(2024, 0, 1 + i)) }));
}

const num = (value: string): number => (value === "" ? 0 : Number(value));

export function RulesSection({ rules, onChange }: { rules: WeeklyRule[]; onChange: Setter<WeeklyRule[]> }) {
  const t = useT(strings);
  const nextDayHint = useNextDayHint();
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("rules")}</legend>
      {rules.map((rule, i) => (
        <div class="editor-row" key={i}>
          <SelectField label={t("day")} value={String(rule.day_of_week)} onValue={(v) => onChange(patchAt(rules, i, { day_of_week: Number(v) }))} options={weekdays()} />
          <TextField label={t("from")} type="time" value={rule.start} onValue={(v) => onChange(patchAt(rules, i, { start: v }))} required />
          <TextField label={t("to")} type="time" value={rule.end} onValue={(v) => onChange(patchAt(rules, i, { end: v }))} required {...nextDayHint(rule.start, rule.end)} />
          <TextField label={t("slot")} type="number" min={5} max={480} value={String(rule.slot_minutes)} onValue={(v) => onChange(patchAt(rules, i, { slot_minutes: num(v) }))} required />
          <SelectField label={t("visitType")} value={rule.visit_type} onValue={(v) => onChange(patchAt(rules, i, { visit_type: v as VisitType }))} options={visitTypes} />
          <Button variant="link" onClick={() => onChange(rules.filter((_, j) => j !== i))}>
            {t("remove")}
          </Button>
        </div>
      ))}
      <Button variant="secondary" onClick={() => onChange([...rules, newRule(rules)])}>
        {t("addRule")}
      </Button>
    </fieldset>
  );
}

export function ExceptionsSection({ exceptions, onChange }: { exceptions: DateException[]; onChange: Setter<DateException[]> }) {
  const t = useT(strings);
  const nextDayHint = useNextDayHint();
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("exceptions")}</legend>
      {exceptions.map((e, i) => {
        const set = (patch: Partial<DateException>) => onChange(patchAt(exceptions, i, patch));
        const extra = e.kind === "extra-hours";
        return (
          <div class="editor-row" key={i}>
            <SelectField
              label={t("kind")}
              value={e.kind}
              onValue={(v) =>
                set(v === "extra-hours"
                  ? { kind: "extra-hours", start: e.start ?? "09:00", end: e.end ?? "12:00", slot_minutes: 20, visit_type: "in-person" }
                  : { kind: "time-off" })
              }
              options={[
                { value: "time-off", label: t("timeOff") },
                { value: "extra-hours", label: t("extraHours") },
              ]}
            />
            <TextField label={t("startDate")} type="date" value={e.start_date} onValue={(v) => set({ start_date: v })} required />
            <TextField label={t("endDate")} type="date" value={e.end_date ?? ""} onValue={(v) => set({ end_date: v || null })} />
            <TextField label={t("from")} type="time" value={e.start ?? ""} onValue={(v) => set({ start: v || null })} required={extra} />
            <TextField label={t("to")} type="time" value={e.end ?? ""} onValue={(v) => set({ end: v || null })} required={extra} {...nextDayHint(e.start, e.end)} />
            {extra && (
              <>
                <TextField label={t("slot")} type="number" min={5} value={String(e.slot_minutes ?? 20)} onValue={(v) => set({ slot_minutes: num(v) })} />
                <SelectField label={t("visitType")} value={e.visit_type ?? "in-person"} onValue={(v) => set({ visit_type: v as VisitType })} options={visitTypes} />
              </>
            )}
            <TextField label={t("note")} value={e.note} onValue={(v) => set({ note: v })} maxLength={500} />
            <Button variant="link" onClick={() => onChange(exceptions.filter((_, j) => j !== i))}>
              {t("remove")}
            </Button>
          </div>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...exceptions, newException()])}>
        {t("addException")}
      </Button>
    </fieldset>
  );
}

/** A fee typed in the currency's major unit ("40.00" €) and kept in minor units (4000). */
function FeeField({ minor, currency, onMinor }: { minor: number | null; currency: string; onMinor: (minor: number | null) => void }) {
  const t = useT(strings);
  const [text, setText] = useState(minor === null ? "" : majorAmount(minor, currency));
  return (
    <TextField
      label={t("feeIn", { currency })}
      inputMode="decimal"
      pattern={amountPattern(currency)}
      value={text}
      onValue={(v) => {
        setText(v);
        const parsed = v.trim() === "" ? null : minorAmount(v, currency);
        if (v.trim() === "" || parsed !== null) onMinor(parsed);
      }}
    />
  );
}

export function ReasonsSection({ reasons, currency, onChange }: { reasons: VisitReason[]; currency: string; onChange: Setter<VisitReason[]> }) {
  const t = useT(strings);
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("reasons")}</legend>
      {reasons.map((r, i) => {
        const set = (patch: Partial<VisitReason>) => onChange(patchAt(reasons, i, patch));
        return (
          <div class="editor-row" key={r.id ?? `new-${i}`}>
            <TextField label={t("reasonName")} value={r.name} onValue={(v) => set({ name: v })} maxLength={120} required />
            <TextField label={t("duration")} type="number" min={5} value={String(r.duration_minutes)} onValue={(v) => set({ duration_minutes: num(v) })} required />
            <FeeField minor={r.fee_override} currency={currency} onMinor={(fee) => set({ fee_override: fee })} />
            <fieldset class="choices-inline">
              <legend>{t("visitType")}</legend>
              {visitTypes.map((vt) => (
                <label key={vt.value}>
                  <input
                    type="checkbox"
                    checked={r.visit_types.includes(vt.value as VisitType)}
                    onChange={(e) =>
                      set({
                        visit_types: e.currentTarget.checked
                          ? [...r.visit_types, vt.value as VisitType]
                          : r.visit_types.filter((x) => x !== vt.value),
                      })
                    }
                  />
                  {vt.label}
                </label>
              ))}
            </fieldset>
            <label class="check">
              <input type="checkbox" checked={r.new_patients_allowed} onChange={(e) => set({ new_patients_allowed: e.currentTarget.checked })} />
              {t("newPatients")}
            </label>
            <Button variant="link" onClick={() => onChange(reasons.filter((_, j) => j !== i))}>
              {t("remove")}
            </Button>
          </div>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...reasons, newReason()])}>
        {t("addReason")}
      </Button>
    </fieldset>
  );
}

export function SettingsSection({ settings, onChange }: { settings: SchedulingSettings; onChange: Setter<SchedulingSettings> }) {
  const t = useT(strings);
  return (
    <fieldset class="editor-section">
      <legend>{t("settings")}</legend>
      <div class="editor-row">
        <TextField label={t("notice")} type="number" min={0} value={String(settings.min_notice_minutes)} onValue={(v) => onChange({ ...settings, min_notice_minutes: num(v) })} />
        <TextField label={t("horizon")} type="number" min={1} value={String(settings.max_horizon_days)} onValue={(v) => onChange({ ...settings, max_horizon_days: num(v) })} />
        <TextField label={t("buffer")} type="number" min={0} value={String(settings.buffer_minutes)} onValue={(v) => onChange({ ...settings, buffer_minutes: num(v) })} />
      </div>
    </fieldset>
  );
}
