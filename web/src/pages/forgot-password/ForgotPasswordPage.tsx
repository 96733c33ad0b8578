// Ask for a reset link; the answer is the same whether the account exists or not.
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { forgotPassword } from "../../lib/auth";
import { errorMessage } from "../../lib/errors";
import { useAction, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export default function ForgotPasswordPage() {
  const t = useT(strings);
  const tc = useT(common);
  useDocumentTitle(t("title"));
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const submit = useAction(async () => {
    await forgotPassword(email);
    setSent(true);
  });
  return (
    <section class="card narrow" aria-labelledby="forgot-title">
      <h1 id="forgot-title">{t("title")}</h1>
      {sent ? (
        <Alert tone="success">{t("sent")}</Alert>
      ) : (
        <>
          <p>{t("intro")}</p>
          {submit.error !== undefined && <Alert>{errorMessage(submit.error, tc)}</Alert>}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void submit.run();
            }}
          >
            <TextField label={t("email")} name="email" type="email" autocomplete="email" value={email} onValue={setEmail} required />
            <Button type="submit" busy={submit.busy} busyLabel={t("submitting")}>
              {t("submit")}
            </Button>
          </form>
        </>
      )}
      <p>
        <a href="/sign-in">{t("back")}</a>
      </p>
    </section>
  );
}
