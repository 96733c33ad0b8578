// Sign-in, then the TOTP step when the account has two-step verification; returns to ?next.
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Alert } from "../../components/Status";
import { sendMfaCode, signIn, verifyMfa } from "../../lib/auth";
import { ApiError } from "../../lib/api";
import { errorMessage } from "../../lib/errors";
import { useDocumentTitle, useAction } from "../../lib/hooks";
import { useT } from "../../lib/i18n";
import { safeNext } from "../../lib/routing";
import { sessionExpired } from "../../lib/session";
import { common } from "../../lib/strings";
import { strings } from "./strings";

export default function SignInPage() {
  const t = useT(strings);
  const tc = useT(common);
  const { query } = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  useDocumentTitle(mfaToken ? t("mfaTitle") : t("title"));

  const login = useAction(async () => {
    const result = await signIn(email, password);
    // Signed in: the guard of this guest-only page sends the user on (see Guard).
    if (result.kind === "mfa") setMfaToken(result.mfaToken);
  });
  const mfa = useAction(async () => {
    await verifyMfa(mfaToken ?? "", code);
  });
  const [codeSent, setCodeSent] = useState<"email" | "sms" | null>(null);
  const send = useAction(async (channel: "email" | "sms") => {
    setCodeSent(null);
    await sendMfaCode(mfaToken ?? "", channel);
    setCodeSent(channel);
  });

  const failure = (error: unknown, unauthorised: string) =>
    error instanceof ApiError && error.status === 401 ? unauthorised : errorMessage(error, tc);

  if (mfaToken) {
    return (
      <section class="card narrow" aria-labelledby="mfa-title">
        <h1 id="mfa-title">{t("mfaTitle")}</h1>
        <p>{t("mfaIntro")}</p>
        {mfa.error !== undefined && <Alert>{failure(mfa.error, t("badCode"))}</Alert>}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void mfa.run();
          }}
        >
          <TextField
            label={t("code")}
            name="code"
            value={code}
            onValue={setCode}
            autocomplete="one-time-code"
            inputMode="numeric"
            required
            autoFocus
          />
          <Button type="submit" busy={mfa.busy} busyLabel={t("verifying")}>
            {t("verify")}
          </Button>
          <Button variant="link" onClick={() => setMfaToken(null)}>
            {t("back")}
          </Button>
        </form>
        <p>{t("otherWay")}</p>
        {send.error !== undefined && <Alert>{failure(send.error, t("mfaExpired"))}</Alert>}
        {codeSent && <Alert tone="success">{t(codeSent === "sms" ? "codeSentSms" : "codeSentEmail")}</Alert>}
        <div class="button-row">
          <Button variant="secondary" busy={send.busy} busyLabel={t("sending")} onClick={() => void send.run("email")}>
            {t("emailCode")}
          </Button>
          <Button variant="secondary" busy={send.busy} busyLabel={t("sending")} onClick={() => void send.run("sms")}>
            {t("smsCode")}
          </Button>
        </div>
      </section>
    );
  }

  return (
    <section class="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">{t("title")}</h1>
      {(query.expired || sessionExpired.value) && <Alert tone="warning">{t("expired")}</Alert>}
      {query.reset && <Alert tone="success">{t("reset")}</Alert>}
      {login.error !== undefined && <Alert>{failure(login.error, t("invalid"))}</Alert>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void login.run();
        }}
      >
        <TextField label={t("email")} name="email" type="email" autocomplete="username" value={email} onValue={setEmail} required />
        <TextField
          label={t("password")}
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onValue={setPassword}
          required
        />
        <Button type="submit" busy={login.busy} busyLabel={t("submitting")}>
          {t("submit")}
        </Button>
      </form>
      <p>
        <a href="/forgot-password">{t("forgot")}</a>
      </p>
      <p>
        {t("noAccount")} <a href={`/sign-up${query.next ? `?next=${encodeURIComponent(safeNext(query.next))}` : ""}`}>{t("signUp")}</a>
      </p>
    </section>
  );
}
