// The login page: email and password against POST /login; on success the
// session starts and the page the user was sent away from opens again.
import { useState } from "preact/hooks";
import { useLocation, useSearch } from "wouter-preact";
import { request } from "../api/client";
import type { Session } from "../api/types";
import { Button, Field, FormError, submitErrors, type Errors } from "../components/ui";
import { session } from "../lib/session";

export default function Login() {
  const [, navigate] = useLocation();
  const search = useSearch();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const reason = session.reason;

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: Errors = {};
    if (!email.trim()) errs.email = "Enter your email.";
    if (!password) errs.password = "Enter your password.";
    setErrors(errs);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      const s = await request<Session>("POST", "/login", { body: { email: email.trim(), password }, anonymous: true });
      session.start(s);
      const next = new URLSearchParams(search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
    } catch (err) {
      setErrors(submitErrors(err, ["email", "password"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="login-page">
      <form class="card login-card" onSubmit={submit} noValidate aria-label="Log in">
        <div class="brand big"><span class="logo" aria-hidden="true">≋</span> Sluice</div>
        <p class="muted">Sign in to the admin console.</p>
        {reason && <div class="banner banner-info" role="status">{reason}</div>}
        <FormError errors={errors} />
        <Field label="Email" error={errors.email}>
          <input class="input" type="email" name="email" autoComplete="username" autoFocus value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label="Password" error={errors.password}>
          <input class="input" type="password" name="password" autoComplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </Field>
        <Button type="submit" variant="primary" busy={busy} class="wide">Log in</Button>
      </form>
    </div>
  );
}
