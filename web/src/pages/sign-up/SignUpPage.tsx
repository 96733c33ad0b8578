// Account creation (patients by default, doctors flagged for verification), then signed in.
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { ApiError } from "../../lib/api";
import { signUp, type Registration } from "../../lib/auth";
import { errorMessage } from "../../lib/errors";
import { useAction, useDocumentTitle } from "../../lib/hooks";
import { locale, useT } from "../../lib/i18n";
import { saveMessageLanguage } from "../../lib/notifications";
import { safeNext } from "../../lib/routing";
import { user } from "../../lib/session";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export default function SignUpPage() {
  const t = useT(strings);
  const tc = useT(common);
  const { query } = useLocation();
  useDocumentTitle(t("title"));
  const [form, setForm] = useState<Registration>({ email: "", password: "", first_name: "", last_name: "", role: "patient" });
  const set = (key: keyof Registration) => (value: string) => setForm({ ...form, [key]: value });
  const submit = useAction(async () => {
    await signUp(form);
    // The new account's messages speak the interface's language (the register body has none).
    if (user.value) await saveMessageLanguage(locale.value).catch(() => undefined);
  });
  const error = submit.error instanceof ApiError ? submit.error : undefined;
  const fieldError = (name: string) => error?.fieldError(name);

  return (
    <section class="card narrow" aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">{t("title")}</h1>
      {submit.error !== undefined && (
        <Alert>
          {error?.status === 409 ? t("taken") : error?.status === 422 ? t("invalid") : errorMessage(submit.error, tc)}
        </Alert>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        <fieldset>
          <legend>{t("role")}</legend>
          <div class="choices">
            {(["patient", "doctor"] as const).map((role) => (
              <label key={role}>
                <input type="radio" name="role" value={role} checked={form.role === role} onChange={() => set("role")(role)} />
                {t(role)}
              </label>
            ))}
          </div>
          {form.role === "doctor" && <p class="hint">{t("doctorHint")}</p>}
        </fieldset>
        <TextField label={t("firstName")} name="first_name" autocomplete="given-name" value={form.first_name} onValue={set("first_name")} error={fieldError("first_name")} required />
        <TextField label={t("lastName")} name="last_name" autocomplete="family-name" value={form.last_name} onValue={set("last_name")} error={fieldError("last_name")} required />
        <TextField label={t("email")} name="email" type="email" autocomplete="email" value={form.email} onValue={set("email")} error={fieldError("email")} required />
        <TextField
          label={t("password")}
          name="password"
          type="password"
          autocomplete="new-password"
          hint={t("passwordHint")}
          minLength={10}
          value={form.password}
          onValue={set("password")}
          error={fieldError("password")}
          required
        />
        <Button type="submit" busy={submit.busy} busyLabel={t("submitting")}>
          {t("submit")}
        </Button>
      </form>
      <p>
        {t("haveAccount")} <a href={`/sign-in${query.next ? `?next=${encodeURIComponent(safeNext(query.next))}` : ""}`}>{t("signIn")}</a>
      </p>
    </section>
  );
}
