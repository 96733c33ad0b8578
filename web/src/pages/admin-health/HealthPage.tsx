// Admin: engines, outbox and consumer lag, audit sealing, connected sockets per namespace.
import { AdminFrame } from "../../components/AdminFrame";
import { Button } from "../../components/Button";
import { ErrorView, Loading } from "../../components/Status";
import { systemHealth } from "../../lib/admin";
import { useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { formatTime } from "../../lib/time";
import { strings } from "./strings";

export default function HealthPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const health = useAsync(() => systemHealth(), []);
  const data = health.data;
  return (
    <AdminFrame title={t("title")}>
      <Button variant="secondary" busy={health.loading} onClick={health.reload}>
        {t("refresh")}
      </Button>
      {health.loading && !data && <Loading />}
      {health.error !== undefined && <ErrorView error={health.error} onRetry={health.reload} />}
      {data && (
        <div class="admin-grid">
          <section class="card" aria-labelledby="engines-title">
            <h2 id="engines-title">{t("engines")}</h2>
            <ul class="plain-list">
              {data.engines.map((engine) => (
                <li key={engine.name}>
                  <strong>{engine.name}</strong>: <span class={engine.ok ? "ok" : "bad"}>{engine.ok ? t("up") : t("down")}</span>{" "}
                  <span class="muted">{engine.detail}</span>
                </li>
              ))}
            </ul>
            <p class="muted">{t("checked", { time: formatTime(data.checked_at) })}</p>
          </section>
          <section class="card" aria-labelledby="outbox-title">
            <h2 id="outbox-title">{t("outbox")}</h2>
            <p>{t("outboxText", { pending: data.outbox_pending, age: data.outbox_oldest_age_s })}</p>
            <p>{t("audit", { count: data.audit_unsealed })}</p>
          </section>
          <section class="card" aria-labelledby="consumers-title">
            <h2 id="consumers-title">{t("consumers")}</h2>
            <table class="admin-table">
              <thead>
                <tr>
                  <th scope="col">{t("consumer")}</th>
                  <th scope="col">{t("pending")}</th>
                  <th scope="col">{t("ackPending")}</th>
                </tr>
              </thead>
              <tbody>
                {data.consumers.map((c) => (
                  <tr key={c.name}>
                    <td>
                      <code>{c.name}</code>
                    </td>
                    <td>{c.pending}</td>
                    <td>{c.ack_pending}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card" aria-labelledby="sockets-title">
            <h2 id="sockets-title">{t("sockets")}</h2>
            <table class="admin-table">
              <thead>
                <tr>
                  <th scope="col">{t("namespace")}</th>
                  <th scope="col">{t("count")}</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(data.sockets).map(([namespace, count]) => (
                  <tr key={namespace}>
                    <td>
                      <code>{namespace}</code>
                    </td>
                    <td>{count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </AdminFrame>
  );
}
