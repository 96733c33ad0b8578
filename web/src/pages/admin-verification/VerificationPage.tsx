// Admin: doctors waiting for verification, oldest first; verify, or reject with a reason.
import { useState } from "preact/hooks";
import { AdminFrame } from "../../components/AdminFrame";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { type PendingDoctor, rejectDoctor, verificationQueue, verifyDoctor } from "../../lib/admin";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import { strings } from "./strings";

export default function VerificationPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const [news, setNews] = useState("");
  const queue = useAsync(() => verificationQueue(), []);
  return (
    <AdminFrame title={t("title")}>
      {news && <Alert tone="success">{news}</Alert>}
      {queue.loading && !queue.data && <Loading />}
      {queue.error !== undefined && <ErrorView error={queue.error} onRetry={queue.reload} />}
      {queue.data && queue.data.items.length === 0 && <Empty>{t("none")}</Empty>}
      <ul class="plain-list admin-list">
        {queue.data?.items.map((doctor) => (
          <Pending key={doctor.id} doctor={doctor} onDone={(message) => (setNews(message), queue.reload())} />
        ))}
      </ul>
    </AdminFrame>
  );
}

function Pending({ doctor, onDone }: { doctor: PendingDoctor; onDone: (news: string) => void }) {
  const t = useT(strings);
  const tc = useT(common);
  const name = `${doctor.first_name} ${doctor.last_name}`;
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const verify = useAction(async () => {
    await verifyDoctor(doctor.id);
    onDone(t("verified", { name }));
  });
  const reject = useAction(async () => {
    await rejectDoctor(doctor.id, reason.trim());
    onDone(t("rejected", { name }));
  });
  return (
    <li class="card admin-row">
      <div>
        <strong>Dr {name}</strong> <span class="muted">· {doctor.email}</span>
        <p>
          {t("licence")}: <code>{doctor.license_number}</code>
        </p>
        <p class="muted">
          {doctor.city} · {doctor.specializations.join(", ")} · {t("asked", { date: formatLongDate(doctor.created_at) })}
        </p>
      </div>
      <Button busy={verify.busy} onClick={() => void verify.run()}>
        {t("verify")}
      </Button>
      {!rejecting ? (
        <Button variant="secondary" onClick={() => setRejecting(true)}>
          {t("reject")}
        </Button>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void reject.run();
          }}
        >
          <TextField label={t("reason", { name })} value={reason} onValue={setReason} maxLength={1000} required />
          <Button type="submit" variant="danger" busy={reject.busy}>
            {t("confirmReject")}
          </Button>
        </form>
      )}
      {[verify.error, reject.error].map(
        (error, i) => error !== undefined && <Alert key={i}>{errorMessage(error, tc)}</Alert>,
      )}
    </li>
  );
}
