// What every admin page shares: the admin sections' tabs, and the step-up prompt shown when the
// server asks for the password again (health data: at most 5 minutes since the last entry).
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { stepUp } from "../lib/admin";
import { errorMessage } from "../lib/errors";
import { useAction } from "../lib/hooks";
import { defineStrings, useT } from "../lib/i18n";
import { common } from "../lib/strings";
import { Button } from "./Button";
import { TextField } from "./Field";
import { Alert } from "./Status";

const strings = defineStrings({
  en: {
    sections: "Admin sections",
    users: "Users",
    verification: "Doctor verification",
    audit: "Audit trail",
    health: "System health",
    analytics: "Analytics",
    stepUpTitle: "Confirm it is you",
    stepUpText: "This shows health data. Enter your password again (asked every 5 minutes).",
    password: "Password",
    confirm: "Confirm",
    confirming: "Checking…",
  },
  fr: {
    sections: "Sections d’administration",
    users: "Utilisateurs",
    verification: "Vérification des médecins",
    audit: "Journal d’audit",
    health: "État du système",
    analytics: "Statistiques",
    stepUpTitle: "Confirmez votre identité",
    stepUpText: "Cette page montre des données de santé. Saisissez à nouveau votre mot de passe (demandé toutes les 5 minutes).",
    password: "Mot de passe",
    confirm: "Confirmer",
    confirming: "Vérification…",
  },
});

const TABS = [
  ["/admin/users", "users"],
  ["/admin/verification", "verification"],
  ["/admin/audit", "audit"],
  ["/admin/health", "health"],
  ["/admin/analytics", "analytics"],
] as const;

export function AdminFrame({ title, children }: { title: string; children: ComponentChildren }) {
  const t = useT(strings);
  const { path } = useLocation();
  return (
    <div class="page admin">
      <h1>{title}</h1>
      <nav aria-label={t("sections")}>
        <ul class="admin-tabs">
          {TABS.map(([href, key]) => (
            <li key={href}>
              <a href={href} aria-current={path === href ? "page" : undefined}>
                {t(key)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </div>
  );
}

/** The password prompt; `onDone` runs once the server granted the step-up. */
export function StepUpPrompt({ onDone }: { onDone: () => void }) {
  const t = useT(strings);
  const tc = useT(common);
  const [password, setPassword] = useState("");
  const confirm = useAction(async () => {
    await stepUp(password);
    setPassword("");
    onDone();
  });
  return (
    <form
      class="card"
      aria-labelledby="step-up-title"
      onSubmit={(e) => {
        e.preventDefault();
        void confirm.run();
      }}
    >
      <h2 id="step-up-title">{t("stepUpTitle")}</h2>
      <p class="hint">{t("stepUpText")}</p>
      <TextField label={t("password")} type="password" autocomplete="current-password" value={password} onValue={setPassword} required />
      {confirm.error !== undefined && <Alert>{errorMessage(confirm.error, tc)}</Alert>}
      <Button type="submit" busy={confirm.busy} busyLabel={t("confirming")}>
        {t("confirm")}
      </Button>
    </form>
  );
}
