// Page frame: skip link, header with the pages' navigation entries, language switch, account.
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { signOut } from "../lib/auth";
import { LOCALES, locale, setLocale, useT, type Locale } from "../lib/i18n";
import { useAction } from "../lib/hooks";
import { saveMessageLanguage } from "../lib/notifications";
import { allows } from "../lib/routing";
import { user } from "../lib/session";
import { common } from "../lib/strings";
import { routes } from "../routes";
import { Bell } from "./Bell";
import { Button } from "./Button";

function Nav() {
  const t = useT(common);
  const { path } = useLocation();
  const role = user.value?.role;
  const entries = routes
    .filter((r) => r.nav && r.access !== "guest" && r.access !== "public" && allows(r.access, role))
    .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0));
  return (
    <nav aria-label={t("mainNav")}>
      <ul class="nav-list">
        {entries.map((r) => (
          <li key={r.path}>
            <a href={r.path} aria-current={path === r.path ? "page" : undefined}>
              {r.nav?.label[locale.value]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Switch the interface; a signed-in user's messages follow (best effort: the switch itself
 * never waits on the network, and the settings page shows what was stored). */
function switchLanguage(next: Locale): void {
  setLocale(next);
  if (user.value) saveMessageLanguage(next).catch(() => undefined);
}

function LanguageSwitch() {
  const t = useT(common);
  return (
    <label class="lang">
      <span class="visually-hidden">{t("language")}</span>
      <select value={locale.value} onChange={(e) => switchLanguage(e.currentTarget.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {l === "en" ? "English" : "Français"}
          </option>
        ))}
      </select>
    </label>
  );
}

function Account() {
  const t = useT(common);
  const { route } = useLocation();
  const out = useAction(signOut);
  const current = user.value;
  if (!current) {
    return (
      <div class="account">
        <a href="/sign-in">{t("signIn")}</a>
        <a class="btn btn-secondary" href="/sign-up">
          {t("signUp")}
        </a>
      </div>
    );
  }
  return (
    <div class="account">
      <span class="account-email" title={current.email}>
        {current.email}
      </span>
      <Button
        variant="secondary"
        busy={out.busy}
        busyLabel={t("signingOut")}
        onClick={async () => {
          await out.run();
          route("/sign-in");
        }}
      >
        {t("signOut")}
      </Button>
    </div>
  );
}

export function Layout({ children, busy }: { children: ComponentChildren; busy: boolean }) {
  const t = useT(common);
  return (
    <>
      <a class="skip-link" href="#main">
        {t("skip")}
      </a>
      <header class="site-header">
        <a class="brand" href="/">
          {t("brand")}
        </a>
        <Nav />
        <div class="header-tools">
          <LanguageSwitch />
          <Bell />
          <Account />
        </div>
      </header>
      {busy && <div class="page-progress" role="progressbar" aria-label={t("pageLoading")} />}
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
