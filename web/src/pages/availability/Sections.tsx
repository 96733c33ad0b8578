// The editor's sections: weekly hours, exceptions, reasons, booking rules.
import { useState } from "preact/hooks";
import type { ComponentChildren } from "preact";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import type { FieldError } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { locale } from "../../lib/i18n";
import { amountPattern, majorAmount, minorAmount } from "../../lib/money";
import { fieldText } from "../../lib/problemText";
import { common } from "../../lib/strings";
import type { DateException, SchedulingSettings, VisitReason, VisitType, WeeklyRule } from "../../lib/types";
import { endsNextDay, newException, newReason, newRule, patchAt, rowId, type Section } from "./model";
import { strings } from "./strings";

type Setter<T> = (next: T) => void;
/** The server's field errors of the last save or preview ("rules.2.end", "exceptions.0"). */
type Problems = readonly FieldError[];

/** One row's errors, in words: those of a field the row shows go beside it (`at`), the rest
 * (the row as a whole, or a part without a control) above the row (`row`). */
function rowErrors(problems: Problems, section: Section, index: number, shown: readonly string[]) {
  const prefix = `${section}.${index}`;
  const mine = problems.filter((e) => e.field === prefix || e.field.startsWith(`${prefix}.`));
  const fieldOf = (e: FieldError) => e.field.split(".")[2];
  const at = (name: string): string | undefined => {
    const texts = mine.filter((e) => fieldOf(e) === name).map(fieldText);
    return texts.length > 0 ? texts.join(" ") : undefined;
  };
  const row = mine.filter((e) => !shown.includes(fieldOf(e) ?? "")).map(fieldText);
  return { at, row };
}

/** A row of a section: a named group, with the errors about the whole row read out with it. */
function Row({ section, index, messages, children }: { section: Section; index: number; messages: string[]; children: ComponentChildren }) {
  const t = useT(strings);
  const id = rowId(section, index);
  const invalid = messages.length > 0;
  return (
    <div
      class={`editor-row ${invalid ? "editor-row-invalid" : ""}`}
      id={id}
      role="group"
      aria-label={`${t(section)}, ${t("row", { row: index + 1 })}`}
      aria-describedby={invalid ? `${id}-error` : undefined}
    >
      {invalid && (
        <p class="field-error row-error" id={`${id}-error`}>
          {messages.join(" ")}
        </p>
      )}
      {children}
    </div>
  );
}

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

const RULE_FIELDS = ["day_of_week", "start", "end", "slot_minutes", "visit_type"] as const;

export function RulesSection({ rules, problems, onChange }: { rules: WeeklyRule[]; problems: Problems; onChange: Setter<WeeklyRule[]> }) {
  const t = useT(strings);
  const nextDayHint = useNextDayHint();
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("rules")}</legend>
      {rules.map((rule, i) => {
        const errors = rowErrors(problems, "rules", i, RULE_FIELDS);
        return (
          <Row section="rules" index={i} messages={errors.row} key={i}>
            <SelectField label={t("day")} value={String(rule.day_of_week)} onValue={(v) => onChange(patchAt(rules, i, { day_of_week: Number(v) }))} options={weekdays()} error={errors.at("day_of_week")} />
            <TextField label={t("from")} type="time" value={rule.start} onValue={(v) => onChange(patchAt(rules, i, { start: v }))} required error={errors.at("start")} />
            <TextField label={t("to")} type="time" value={rule.end} onValue={(v) => onChange(patchAt(rules, i, { end: v }))} required {...nextDayHint(rule.start, rule.end)} error={errors.at("end")} />
            <TextField label={t("slot")} type="number" min={5} max={480} value={String(rule.slot_minutes)} onValue={(v) => onChange(patchAt(rules, i, { slot_minutes: num(v) }))} required error={errors.at("slot_minutes")} />
            <SelectField label={t("visitType")} value={rule.visit_type} onValue={(v) => onChange(patchAt(rules, i, { visit_type: v as VisitType }))} options={visitTypes} error={errors.at("visit_type")} />
            <Button variant="link" onClick={() => onChange(rules.filter((_, j) => j !== i))}>
              {t("remove")}
            </Button>
          </Row>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...rules, newRule(rules)])}>
        {t("addRule")}
      </Button>
    </fieldset>
  );
}

const EXCEPTION_FIELDS = ["kind", "start_date", "end_date", "start", "end", "slot_minutes", "visit_type", "note"] as const;

export function ExceptionsSection({ exceptions, problems, onChange }: { exceptions: DateException[]; problems: Problems; onChange: Setter<DateException[]> }) {
  const t = useT(strings);
  const nextDayHint = useNextDayHint();
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("exceptions")}</legend>
      {exceptions.map((e, i) => {
        const set = (patch: Partial<DateException>) => onChange(patchAt(exceptions, i, patch));
        const extra = e.kind === "extra-hours";
        const errors = rowErrors(problems, "exceptions", i, extra ? EXCEPTION_FIELDS : EXCEPTION_FIELDS.filter((f) => f !== "slot_minutes" && f !== "visit_type"));
        return (
          <Row section="exceptions" index={i} messages={errors.row} key={i}>
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
              error={errors.at("kind")}
            />
            <TextField label={t("startDate")} type="date" value={e.start_date} onValue={(v) => set({ start_date: v })} required error={errors.at("start_date")} />
            <TextField label={t("endDate")} type="date" value={e.end_date ?? ""} onValue={(v) => set({ end_date: v || null })} error={errors.at("end_date")} />
            <TextField label={t("from")} type="time" value={e.start ?? ""} onValue={(v) => set({ start: v || null })} required={extra} error={errors.at("start")} />
            <TextField label={t("to")} type="time" value={e.end ?? ""} onValue={(v) => set({ end: v || null })} required={extra} {...nextDayHint(e.start, e.end)} error={errors.at("end")} />
            {extra && (
              <>
                <TextField label={t("slot")} type="number" min={5} value={String(e.slot_minutes ?? 20)} onValue={(v) => set({ slot_minutes: num(v) })} error={errors.at("slot_minutes")} />
                <SelectField label={t("visitType")} value={e.visit_type ?? "in-person"} onValue={(v) => set({ visit_type: v as VisitType })} options={visitTypes} error={errors.at("visit_type")} />
              </>
            )}
            <TextField label={t("note")} value={e.note} onValue={(v) => set({ note: v })} maxLength={500} error={errors.at("note")} />
            <Button variant="link" onClick={() => onChange(exceptions.filter((_, j) => j !== i))}>
              {t("remove")}
            </Button>
          </Row>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...exceptions, newException()])}>
        {t("addException")}
      </Button>
    </fieldset>
  );
}

/** A fee typed in the currency's major unit ("40.00" €) and kept in minor units (4000). */
function FeeField({ minor, currency, error, onMinor }: { minor: number | null; currency: string; error: string | undefined; onMinor: (minor: number | null) => void }) {
  const t = useT(strings);
  const [text, setText] = useState(minor === null ? "" : majorAmount(minor, currency));
  return (
    <TextField
      label={t("feeIn", { currency })}
      inputMode="decimal"
      pattern={amountPattern(currency)}
      error={error}
      value={text}
      onValue={(v) => {
        setText(v);
        const parsed = v.trim() === "" ? null : minorAmount(v, currency);
        if (v.trim() === "" || parsed !== null) onMinor(parsed);
      }}
    />
  );
}

const REASON_FIELDS = ["name", "duration_minutes", "fee_override", "refund_cutoff_hours", "late_refund_percent"] as const;

export function ReasonsSection({ reasons, currency, problems, onChange }: { reasons: VisitReason[]; currency: string; problems: Problems; onChange: Setter<VisitReason[]> }) {
  const t = useT(strings);
  const visitTypes = useVisitTypes();
  return (
    <fieldset class="editor-section">
      <legend>{t("reasons")}</legend>
      {reasons.map((r, i) => {
        const set = (patch: Partial<VisitReason>) => onChange(patchAt(reasons, i, patch));
        const errors = rowErrors(problems, "reasons", i, REASON_FIELDS);
        return (
          <Row section="reasons" index={i} messages={errors.row} key={r.id ?? `new-${i}`}>
            <TextField label={t("reasonName")} value={r.name} onValue={(v) => set({ name: v })} maxLength={120} required error={errors.at("name")} />
            <TextField label={t("duration")} type="number" min={5} value={String(r.duration_minutes)} onValue={(v) => set({ duration_minutes: num(v) })} required error={errors.at("duration_minutes")} />
            <FeeField minor={r.fee_override} currency={currency} error={errors.at("fee_override")} onMinor={(fee) => set({ fee_override: fee })} />
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
            <TextField label={t("refundCutoff")} type="number" min={0} max={720} value={String(r.refund_cutoff_hours ?? 48)} onValue={(v) => set({ refund_cutoff_hours: num(v) })} error={errors.at("refund_cutoff_hours")} />
            <TextField label={t("lateRefund")} type="number" min={0} max={100} value={String(r.late_refund_percent ?? 50)} onValue={(v) => set({ late_refund_percent: num(v) })} error={errors.at("late_refund_percent")} />
            <SelectField
              label={t("cancelReason")}
              value={r.cancel_reason_required ?? "never"}
              onValue={(v) => set({ cancel_reason_required: v as "never" | "late" | "always" })}
              options={[
                { value: "never", label: t("reasonNever") },
                { value: "late", label: t("reasonLate") },
                { value: "always", label: t("reasonAlways") },
              ]}
            />
            <label class="check">
              <input type="checkbox" checked={r.pay_at_visit ?? false} onChange={(e) => set({ pay_at_visit: e.currentTarget.checked })} />
              {t("payAtVisit")}
            </label>
            <Button variant="link" onClick={() => onChange(reasons.filter((_, j) => j !== i))}>
              {t("remove")}
            </Button>
          </Row>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...reasons, newReason()])}>
        {t("addReason")}
      </Button>
    </fieldset>
  );
}

export function SettingsSection({ settings, problems, onChange }: { settings: SchedulingSettings; problems: Problems; onChange: Setter<SchedulingSettings> }) {
  const t = useT(strings);
  const at = (name: string): string | undefined => {
    const texts = problems.filter((e) => e.field === `settings.${name}`).map(fieldText);
    return texts.length > 0 ? texts.join(" ") : undefined;
  };
  return (
    <fieldset class="editor-section" id={rowId("settings", null)}>
      <legend>{t("settings")}</legend>
      <div class="editor-row">
        <TextField label={t("notice")} type="number" min={0} value={String(settings.min_notice_minutes)} onValue={(v) => onChange({ ...settings, min_notice_minutes: num(v) })} error={at("min_notice_minutes")} />
        <TextField label={t("horizon")} type="number" min={1} value={String(settings.max_horizon_days)} onValue={(v) => onChange({ ...settings, max_horizon_days: num(v) })} error={at("max_horizon_days")} />
        <TextField label={t("buffer")} type="number" min={0} value={String(settings.buffer_minutes)} onValue={(v) => onChange({ ...settings, buffer_minutes: num(v) })} error={at("buffer_minutes")} />
      </div>
    </fieldset>
  );
}
