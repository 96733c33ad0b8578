// A labelled form control with its hint and error tied to it for screen readers.
import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useId } from "preact/hooks";

interface FieldProps {
  label: string;
  hint?: string;
  error?: string | undefined;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren;
}

export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field ${error ? "field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children({ id, describedBy, invalid: Boolean(error) })}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

// The input attributes our forms use (preact's own input props are a union by `type`).
interface InputAttributes {
  name?: string;
  type?: "text" | "email" | "password" | "search" | "tel" | "number" | "date" | "time";
  autocomplete?: string;
  inputMode?: "numeric" | "decimal" | "text" | "email" | "tel" | "search";
  pattern?: string;
  required?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: string | number;
  max?: string | number;
  placeholder?: string;
  autoFocus?: boolean;
}

type InputProps = InputAttributes & {
  label: string;
  hint?: string;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
};

export function TextField({ label, hint, error, value, onValue, ...rest }: InputProps) {
  // Preact types <input> as a union discriminated by `type`; ours is one of its text-like members.
  const attributes = { ...rest, type: rest.type ?? "text" } as InputHTMLAttributes<HTMLInputElement>;
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          {...attributes}
          id={id}
          value={value}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          onInput={(e) => onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

type SelectProps = {
  label: string;
  hint?: string;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
  options: readonly { value: string; label: string }[];
  name?: string;
};

export function SelectField({ label, hint, error, value, onValue, options, name }: SelectProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <select id={id} name={name} value={value} aria-describedby={describedBy} aria-invalid={invalid} onChange={(e) => onValue(e.currentTarget.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
