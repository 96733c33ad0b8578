// The embedded provider's mailbox: what Markini would have emailed or texted.
import { useState } from "preact/hooks";
import { SelectField } from "../../components/Field";
import { ErrorView, Loading } from "../../components/Status";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { formatLocale, useT } from "../../lib/i18n";
import { devMailbox } from "../../lib/notifications";
import { strings } from "./strings";

export default function DevMailboxPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const [channel, setChannel] = useState<"" | "email" | "sms">("");
  const mail = useAsync((signal) => devMailbox(channel, signal), [channel]);
  const when = new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium", timeStyle: "medium" });
  return (
    <section class="card" aria-labelledby="mailbox-title">
      <h1 id="mailbox-title">{t("title")}</h1>
      <p>{t("intro")}</p>
      <SelectField
        label={t("channel")}
        value={channel}
        onValue={(v) => setChannel(v === "email" || v === "sms" ? v : "")}
        options={[
          { value: "", label: t("all") },
          { value: "email", label: t("email") },
          { value: "sms", label: t("sms") },
        ]}
      />
      <button type="button" class="btn btn-secondary" onClick={mail.reload}>
        {t("refresh")}
      </button>
      {mail.error !== undefined && <ErrorView error={mail.error} onRetry={mail.reload} />}
      {mail.loading && !mail.data && <Loading />}
      {mail.data && mail.data.items.length === 0 && <p>{t("empty")}</p>}
      <ul class="plain-list">
        {mail.data?.items.map((m) => (
          <li key={m.id} class="mailbox-item card">
            <p>
              <strong>{m.channel === "sms" ? "SMS" : (m.subject ?? "")}</strong> · {t("to", { recipient: m.recipient })} ·{" "}
              <time dateTime={m.received_at}>{when.format(new Date(m.received_at))}</time>
            </p>
            <pre>{m.body}</pre>
            {m.calendar && <p class="hint">{t("invite")}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
