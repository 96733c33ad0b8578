// The page a reset email links to (?token=...): set a new password, then sign in.
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { resetPassword } from "../../lib/auth";
import { errorMessage } from "../../lib/errors";
import { useAction, useDocumentTitle } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export default function ResetPasswordPage() {
  const t = useT(strings);
  const tc = useT(common);
  const { query, route } = useLocation();
  useDocumentTitle(t("title"));
  const [password, setPassword] = useState("");
  const submit = useAction(async () => {
    await resetPassword(query.token ?? "", password);
    route("/sign-in?reset=1", true);
  });
  const error = submit.error instanceof ApiError ? submit.error : undefined;
  const linkDead = error !== undefined && (error.status === 410 || error.status === 400);
  return (
    <section class="card narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">{t("title")}</h1>
      {submit.error !== undefined && (
        <Alert>
          {linkDead ? t("gone") : errorMessage(submit.error, tc)}
          {linkDead && (
            <p>
              <a href="/forgot-password">{t("again")}</a>
            </p>
          )}
        </Alert>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        <TextField
          label={t("password")}
          name="new_password"
          type="password"
          autocomplete="new-password"
          hint={t("hint")}
          minLength={10}
          value={password}
          onValue={setPassword}
          error={error?.fieldError("new_password")}
          required
        />
        <Button type="submit" busy={submit.busy} busyLabel={t("submitting")}>
          {t("submit")}
        </Button>
      </form>
    </section>
  );
}
