// GDPR self-service: download all of one's data as a zip (export.json + summary.html).
import { Button } from "../../components/Button";
import { Alert } from "../../components/Status";
import { apiBlob } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export function DataExport() {
  const t = useT(strings);
  const tc = useT(common);
  const download = useAction(async () => {
    const url = URL.createObjectURL(await apiBlob("/me/export"));
    const link = document.createElement("a");
    link.href = url;
    link.download = `markini-export-${new Date().toISOString().slice(0, 10)}.zip`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return (
    <section class="card" aria-labelledby="export-title">
      <h2 id="export-title">{t("exportTitle")}</h2>
      <p>{t("exportText")}</p>
      <Button variant="secondary" busy={download.busy} busyLabel={t("exporting")} onClick={() => void download.run()}>
        {t("exportButton")}
      </Button>
      {download.error !== undefined && <Alert>{errorMessage(download.error, tc)}</Alert>}
    </section>
  );
}
