// The header's bell: unread count, the latest notifications (stored, so they survive a reload)
// and live ones from /notifications.
import { useEffect, useId, useState } from "preact/hooks";
import { useT, defineStrings, formatLocale, plural } from "../lib/i18n";
import { bell, followBell, markAllRead } from "../lib/notifications";
import { user } from "../lib/session";

const strings = defineStrings({
  en: {
    bell: "Notifications",
    unread_one: "{count} unread",
    unread_other: "{count} unread",
    empty: "Nothing new.",
    markAll: "Mark all as read",
    settings: "Notification settings",
  },
  fr: {
    bell: "Notifications",
    unread_one: "{count} non lue",
    unread_other: "{count} non lues",
    empty: "Rien de nouveau.",
    markAll: "Tout marquer comme lu",
    settings: "Réglages des notifications",
  },
});

export function Bell() {
  const t = useT(strings);
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const signedIn = user.value !== null;
  const userId = user.value?.id;
  useEffect(() => (userId ? followBell() : undefined), [userId]);
  if (!signedIn) return null;
  const { items, unread } = bell.value;
  const when = new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium", timeStyle: "short" });
  return (
    <div class="bell">
      <button
        type="button"
        class="bell-button"
        aria-expanded={open}
        aria-controls={panelId}
        aria-label={`${t("bell")}, ${plural(t, "unread", unread)}`}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">🔔</span>
        {unread > 0 && (
          <span class="bell-count" data-testid="bell-count" aria-hidden="true">
            {unread}
          </span>
        )}
      </button>
      <div id={panelId} class="bell-panel" hidden={!open} role="region" aria-label={t("bell")}>
        <p class="visually-hidden" aria-live="polite">
          {plural(t, "unread", unread)}
        </p>
        {items.length === 0 ? (
          <p class="bell-empty">{t("empty")}</p>
        ) : (
          <ul class="bell-list">
            {items.slice(0, 20).map((n) => (
              <li key={n.id} class={n.read_at ? "bell-item" : "bell-item bell-unread"}>
                <strong>{n.title}</strong>
                {n.body && <span>{n.body}</span>}
                <time dateTime={n.created_at}>{when.format(new Date(n.created_at))}</time>
              </li>
            ))}
          </ul>
        )}
        <div class="bell-actions">
          {unread > 0 && (
            <button type="button" class="btn btn-secondary" onClick={() => void markAllRead()}>
              {t("markAll")}
            </button>
          )}
          <a href="/settings/notifications" onClick={() => setOpen(false)}>
            {t("settings")}
          </a>
        </div>
      </div>
    </div>
  );
}
