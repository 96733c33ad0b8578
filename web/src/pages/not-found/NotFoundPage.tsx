// Any address no page claims.
import { useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";

export function NotFoundPage() {
  const t = useT(common);
  useDocumentTitle(t("notFoundTitle"));
  return (
    <section class="card narrow">
      <h1>{t("notFoundTitle")}</h1>
      <p>{t("notFoundText")}</p>
      <a href="/">{t("backHome")}</a>
    </section>
  );
}
