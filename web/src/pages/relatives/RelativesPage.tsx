// "My relatives": the profiles this account manages (a child, a parent), with their consent.
import { useState } from "preact/hooks";
import { slotLabel } from "../../components/BookingProblem";
import { Button } from "../../components/Button";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync, useDocumentTitle } from "../../lib/hooks";
import { plural, useT } from "../../lib/i18n";
import { myRelatives, type Relative, removeRelative, upcomingOf } from "../../lib/relatives";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import { RelativeForm } from "./RelativeForm";
import { strings } from "./strings";
import "./relatives.css";

/** Why the removal was refused; with upcoming appointments, which ones and where to cancel them. */
function RemoveRefused({ error, relativeId }: { error: unknown; relativeId: string }) {
  const t = useT(strings);
  const tc = useT(common);
  const upcoming = upcomingOf(error);
  return (
    <Alert>
      {/* Said in the page's words: the one shared message cannot agree with a count of one. */}
      <p>{upcoming.length > 0 ? plural(t, "stillBooked", upcoming.length) : errorMessage(error, tc)}</p>
      {upcoming.length > 0 && (
        <>
          <ul>
            {upcoming.map((a) => (
              <li key={a.id}>{t("upcomingItem", { when: slotLabel(a, a.time_zone), doctor: a.doctor_name })}</li>
            ))}
          </ul>
          <a class="btn btn-secondary" href={`/appointments?for=${relativeId}`}>
            {t("cancelThem")}
          </a>
        </>
      )}
    </Alert>
  );
}

function RelativeCard({ relative, onChanged }: { relative: Relative; onChanged: () => void }) {
  const t = useT(strings);
  const [editing, setEditing] = useState(false);
  const name = `${relative.first_name} ${relative.last_name}`;
  const remove = useAction(async () => {
    if (!window.confirm(t("confirmRemove", { name }))) return;
    await removeRelative(relative.id);
    onChanged();
  });
  if (editing)
    return (
      <li>
        <RelativeForm
          relative={relative}
          onDone={() => {
            setEditing(false);
            onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      </li>
    );
  return (
    <li class="card relative" aria-label={name}>
      <h2>{name}</h2>
      <p>
        {t(`rel_${relative.relationship}`)}
        {/* A calendar date, not an instant: read at local noon so no zone moves it to another day. */}
        {relative.date_of_birth && ` · ${formatLongDate(`${relative.date_of_birth}T12:00:00`)}`}
      </p>
      <p class="hint">{t("consentOn", { basis: t(`basis_${relative.consent.basis}`), date: formatLongDate(relative.consent.at) })}</p>
      <p class="hint">{relative.can_view_history ? t("historyShared") : t("historyPrivate")}</p>
      <div class="actions">
        <a class="btn btn-secondary" href={`/appointments?for=${relative.id}`}>
          {t("appointments")}
        </a>
        <Button variant="secondary" onClick={() => setEditing(true)} aria-label={`${t("editButton")} ${name}`}>
          {t("editButton")}
        </Button>
        <Button variant="danger" busy={remove.busy} busyLabel={t("removing")} onClick={() => void remove.run()} aria-label={`${t("remove")} ${name}`}>
          {t("remove")}
        </Button>
      </div>
      {remove.error !== undefined && <RemoveRefused error={remove.error} relativeId={relative.id} />}
    </li>
  );
}

export default function RelativesPage() {
  const t = useT(strings);
  useDocumentTitle(t("title"));
  const list = useAsync(() => myRelatives(), []);
  const [added, setAdded] = useState<string | null>(null);
  if (list.loading && !list.data) return <Loading />;
  if (!list.data) return <ErrorView error={list.error} onRetry={list.reload} />;
  return (
    <div class="page">
      <h1>{t("title")}</h1>
      <p>{t("intro")}</p>
      <div class="split">
        <section aria-label={t("title")}>
          {list.data.length === 0 ? (
            <Empty>{t("none")}</Empty>
          ) : (
            <ul class="relatives" role="list">
              {list.data.map((r) => (
                <RelativeCard key={r.id} relative={r} onChanged={list.reload} />
              ))}
            </ul>
          )}
        </section>
        <div>
          <div aria-live="polite">{added && <Alert tone="success">{t("added", { name: added })}</Alert>}</div>
          <RelativeForm
            key={list.data.length}
            onDone={(r) => {
              setAdded(r.first_name);
              list.reload();
            }}
          />
        </div>
      </div>
    </div>
  );
}
