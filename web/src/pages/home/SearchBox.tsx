// Search input with type-ahead suggestions (WAI-ARIA combobox with a listbox popup).
import { useEffect, useId, useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { useDebounced } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { strings } from "./strings";
import { suggest, type Suggestion } from "./search";

// Below this, a suggestion list is noise rather than help.
const MIN_CHARS = 2;

interface Props {
  value: string;
  busy: boolean;
  onSubmit: (text: string) => void;
  onPick: (suggestion: Suggestion) => void;
}

export function SearchBox({ value, busy, onSubmit, onPick }: Props) {
  const t = useT(strings);
  const id = useId();
  const [text, setText] = useState(value);
  const [options, setOptions] = useState<Suggestion[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useDebounced(text, 200);

  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (typed.trim().length < MIN_CHARS) {
      setOptions([]);
      return;
    }
    const controller = new AbortController();
    suggest(typed.trim(), controller.signal).then(
      (found) => {
        setOptions(found);
        setActive(-1);
      },
      () => setOptions([]),
    );
    return () => controller.abort();
  }, [typed]);

  const expanded = open && options.length > 0;
  const pick = (option: Suggestion) => {
    setOpen(false);
    setText(option.type === "doctor" ? option.label : "");
    onPick(option);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      setOpen(true);
      setActive((i) => (i + 1) % options.length);
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      setActive((i) => (i <= 0 ? options.length - 1 : i - 1));
    } else if (event.key === "Enter" && expanded && active >= 0) {
      event.preventDefault();
      const option = options[active];
      if (option) pick(option);
    } else if (event.key === "Escape") {
      setOpen(false);
    }
  };

  return (
    <form
      role="search"
      class="search-box"
      onSubmit={(e) => {
        e.preventDefault();
        setOpen(false);
        onSubmit(text.trim());
      }}
    >
      <label for={`${id}-input`} class="label">
        {t("searchLabel")}
      </label>
      <div class="search-row">
        <div class="combobox">
          <input
            id={`${id}-input`}
            type="text"
            name="q"
            role="combobox"
            autocomplete="off"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={`${id}-list`}
            aria-activedescendant={expanded && active >= 0 ? `${id}-opt-${active}` : undefined}
            placeholder={t("searchPlaceholder")}
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setOpen(true);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setTimeout(() => setOpen(false), 150)}
          />
          <ul id={`${id}-list`} role="listbox" aria-label={t("suggestions")} class="suggestions" hidden={!expanded}>
            {options.map((option, index) => (
              <li
                key={`${option.type}:${option.value}`}
                id={`${id}-opt-${index}`}
                role="option"
                aria-selected={index === active}
                class={index === active ? "active" : ""}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(option)}
              >
                <span>{option.label}</span> <span class="badge">{t(`kind_${option.type}`)}</span>
              </li>
            ))}
          </ul>
        </div>
        <Button type="submit" busy={busy} busyLabel={t("searching")}>
          {t("search")}
        </Button>
      </div>
    </form>
  );
}
