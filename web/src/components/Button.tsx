// A button that shows progress: while `busy` it keeps its place, says what it is doing and
// ignores further clicks (no double bookings from a double click).
import type { ButtonHTMLAttributes, ComponentChildren } from "preact";
import { Spinner } from "./Spinner";

type Props = Omit<ButtonHTMLAttributes<HTMLButtonElement>, "disabled"> & {
  busy?: boolean;
  busyLabel?: string;
  disabled?: boolean;
  variant?: "primary" | "secondary" | "danger" | "link";
  children: ComponentChildren;
};

export function Button({ busy = false, busyLabel, disabled, variant = "primary", children, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      class={`btn btn-${variant} ${rest.class ?? ""}`}
      disabled={disabled || busy}
      aria-busy={busy}
    >
      {busy && <Spinner />}
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}
