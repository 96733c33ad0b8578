// Admin: find accounts, suspend or reactivate them, change their role (each change audited).
import { useState } from "preact/hooks";
import { AdminFrame } from "../../components/AdminFrame";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Alert, Empty, ErrorView, Loading } from "../../components/Status";
import { type AdminUser, changeRole, reactivateUser, searchUsers, suspendUser } from "../../lib/admin";
import { errorMessage } from "../../lib/errors";
import { useAction, useAsync, useDebounced, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { formatLongDate } from "../../lib/time";
import type { Role } from "../../lib/types";
import { strings } from "./strings";

const ROLES: Role[] = ["patient", "doctor", "admin"];

export default function AdminUsersPage() {
  const t = useT(strings);
  const tc = useT(common);
  useDocumentTitle(t("title"));
  const [text, setText] = useState("");
  const [role, setRole] = useState("");
  const [state, setState] = useState("");
  const [extra, setExtra] = useState<AdminUser[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [news, setNews] = useState("");
  const q = useDebounced(text.trim(), 300);
  const query = { q, role, active: state === "" ? undefined : state === "active" };
  const page = useAsync(async (signal) => {
    const first = await searchUsers(query);
    if (!signal.aborted) {
      setExtra([]);
      setCursor(first.next_cursor);
    }
    return first;
  }, [q, role, state]);
  const more = useAction(async () => {
    if (!cursor) return;
    const next = await searchUsers({ ...query, cursor });
    setExtra((e) => [...e, ...next.items]);
    setCursor(next.next_cursor);
  });
  const users = [...(page.data?.items ?? []), ...extra];
  const options = (all: string) => [{ value: "", label: all }, ...ROLES.map((r) => ({ value: r, label: t(r) }))];
  return (
    <AdminFrame title={t("title")}>
      <section class="card admin-filters" aria-label={t("filters")}>
        <TextField label={t("search")} type="search" value={text} onValue={setText} maxLength={200} />
        <SelectField label={t("role")} value={role} onValue={setRole} options={options(t("anyRole"))} />
        <SelectField
          label={t("state")}
          value={state}
          onValue={setState}
          options={[
            { value: "", label: t("anyState") },
            { value: "active", label: t("active") },
            { value: "suspended", label: t("suspended") },
          ]}
        />
      </section>
      {news && <Alert tone="success">{news}</Alert>}
      {page.loading && !page.data && <Loading />}
      {page.error !== undefined && <ErrorView error={page.error} onRetry={page.reload} />}
      {page.data && users.length === 0 && <Empty>{t("none")}</Empty>}
      <ul class="plain-list admin-list">
        {users.map((user) => (
          <UserRow key={user.id} user={user} onChange={(message) => (setNews(message), page.reload())} />
        ))}
      </ul>
      {cursor && (
        <Button variant="secondary" busy={more.busy} onClick={() => void more.run()}>
          {t("more")}
        </Button>
      )}
      {more.error !== undefined && <Alert>{errorMessage(more.error, tc)}</Alert>}
    </AdminFrame>
  );
}

function UserRow({ user, onChange }: { user: AdminUser; onChange: (news: string) => void }) {
  const t = useT(strings);
  const tc = useT(common);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState("");
  const act = useAction(async (what: "suspend" | "reactivate" | Role) => {
    if (what === "suspend") {
      const done = await suspendUser(user.id, reason.trim());
      onChange(t("suspendedDone", { email: user.email, sockets: done.sockets_closed }));
    } else if (what === "reactivate") {
      await reactivateUser(user.id);
      onChange(t("reactivated", { email: user.email }));
    } else {
      await changeRole(user.id, what);
      onChange(t("roleChanged", { email: user.email, role: t(what) }));
    }
  });
  return (
    <li class="card admin-row">
      <div>
        <strong>{user.name ?? user.email}</strong>
        {user.name && <span class="muted"> · {user.email}</span>}
        <p class="muted">
          {t(user.role)} · {user.is_active ? t("active") : t("suspended")} · {t("joined", { date: formatLongDate(user.created_at) })}
        </p>
      </div>
      <SelectField
        label={t("roleOf", { email: user.email })}
        value={user.role}
        onValue={(next) => void act.run(next as Role)}
        options={ROLES.map((r) => ({ value: r, label: t(r) }))}
      />
      {user.is_active && !asking && (
        <Button variant="secondary" onClick={() => setAsking(true)}>
          {t("suspend")}
        </Button>
      )}
      {asking && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act.run("suspend");
          }}
        >
          <TextField label={t("reason", { email: user.email })} value={reason} onValue={setReason} maxLength={500} />
          <Button type="submit" busy={act.busy}>
            {t("confirmSuspend")}
          </Button>
          <Button variant="secondary" type="button" onClick={() => setAsking(false)}>
            {tc("cancel")}
          </Button>
        </form>
      )}
      {!user.is_active && (
        <Button variant="secondary" busy={act.busy} onClick={() => void act.run("reactivate")}>
          {t("reactivate")}
        </Button>
      )}
      {act.error !== undefined && <Alert>{errorMessage(act.error, tc)}</Alert>}
    </li>
  );
}
