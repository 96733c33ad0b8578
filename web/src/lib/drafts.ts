// Text a person is typing, kept in sessionStorage so a reload (or a trip to sign in) keeps it;
// this tab only, and cleared once it was sent.
import { useState } from "preact/hooks";

const PREFIX = "markini.draft.";

function read(key: string): string {
  try {
    return sessionStorage.getItem(PREFIX + key) ?? "";
  } catch {
    return ""; // storage refused (private mode): the draft lives as long as the page
  }
}

function write(key: string, value: string): void {
  try {
    if (value) sessionStorage.setItem(PREFIX + key, value);
    else sessionStorage.removeItem(PREFIX + key);
  } catch {
    // storage full or refused: nothing to keep, the field still works
  }
}

/** [value, set, clear] of a draft under `key`. */
export function useSessionDraft(key: string): [string, (value: string) => void, () => void] {
  const [value, setValue] = useState(() => read(key));
  const set = (next: string) => {
    setValue(next);
    write(key, next);
  };
  const clear = () => {
    setValue("");
    write(key, "");
  };
  return [value, set, clear];
}
