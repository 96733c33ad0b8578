// Opens a page only for who may see it: signed-out visitors go to sign-in and come back after.
import { useLocation } from "preact-iso";
import { useEffect } from "preact/hooks";
import { useT } from "../lib/i18n";
import { allows, landingFor, signInUrl, type PageRoute } from "../lib/routing";
import { sessionExpired, user } from "../lib/session";
import { common } from "../lib/strings";
import { Alert } from "./Status";

type Props = { page: PageRoute; path: string; params?: Record<string, string> } & Record<string, unknown>;

export function Guard({ page, ...props }: Props) {
  const t = useT(common);
  const { url, query, route } = useLocation();
  const role = user.value?.role;
  const signedOutOfPrivate = page.access !== "public" && page.access !== "guest" && role === undefined;
  const signedInOnGuest = page.access === "guest" && role !== undefined;

  useEffect(() => {
    if (signedOutOfPrivate) route(signInUrl(url) + (sessionExpired.value ? "&expired=1" : ""), true);
    else if (signedInOnGuest && role) route(landingFor(role, query.next), true);
  }, [signedOutOfPrivate, signedInOnGuest, url]);

  if (signedOutOfPrivate || signedInOnGuest) return null;
  if (!allows(page.access, role)) {
    return (
      <section class="page">
        <Alert>{t("forbidden")}</Alert>
      </section>
    );
  }
  const Page = page.component;
  return <Page {...props} />;
}
