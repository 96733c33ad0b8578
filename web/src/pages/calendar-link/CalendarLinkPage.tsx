// A private iCalendar link to the signed-in patient's appointments or doctor's agenda.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { Alert, ErrorView, Loading } from "../../components/Status";
import { api } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import { strings } from "./strings";

interface FeedState {
  active: boolean;
  created_at: string | null;
}

export default function CalendarLinkPage() {
  const t = useT(strings);
  const tc = useT(common);
  useDocumentTitle(t("title"));
  const state = useAsync(() => api<FeedState>("/calendar-feed"), []);
  const [link, setLink] = useState("");
  const [news, setNews] = useState("");
  const create = useAction(async () => {
    const made = await api<{ url: string }>("/calendar-feed", { method: "POST" });
    setLink(new URL(made.url, location.origin).href);
    setNews("");
    state.reload();
  });
  const revoke = useAction(async () => {
    await api("/calendar-feed", { method: "DELETE" });
    setLink("");
    setNews(t("revoked"));
    state.reload();
  });
  return (
    <div class="page">
      <h1>{t("title")}</h1>
      <p>{t("intro")}</p>
      {state.loading && !state.data && <Loading />}
      {state.error !== undefined && <ErrorView error={state.error} onRetry={state.reload} />}
      {news && <Alert tone="success">{news}</Alert>}
      {link && (
        <section class="card" aria-labelledby="link-title">
          <h2 id="link-title">{t("yourLink")}</h2>
          <input class="feed-link" readOnly value={link} aria-labelledby="link-title" onFocus={(e) => e.currentTarget.select()} />
          <Button variant="secondary" onClick={() => void navigator.clipboard?.writeText(link).then(() => setNews(t("copied")))}>
            {t("copy")}
          </Button>
        </section>
      )}
      {state.data && (
        <section class="card">
          <p>{state.data.active && state.data.created_at ? t("active", { date: formatLongDate(state.data.created_at) }) : t("none")}</p>
          <Button busy={create.busy} busyLabel={t("creating")} onClick={() => void create.run()}>
            {state.data.active ? t("replace") : t("create")}
          </Button>
          {state.data.active && (
            <Button variant="danger" busy={revoke.busy} onClick={() => void revoke.run()}>
              {t("revoke")}
            </Button>
          )}
          {[create.error, revoke.error].map((error, i) => error !== undefined && <Alert key={i}>{errorMessage(error, tc)}</Alert>)}
        </section>
      )}
    </div>
  );
}
