import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { admin } from "../../api/admin";
import { Button, Input, ProblemBanner, ThemeToggle, useSubmission } from "../../components";

/**
 * Where a password reset link leads (/reset-password?token=…): a new password. Without a token, the page asks for the
 * address to mail a link to (mailed only when the server has SMTP; otherwise an instance admin issues the link).
 */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  return (
    <main className="auth-page">
      <div className="auth-corner"><ThemeToggle /></div>
      {token ? <NewPassword token={token} /> : <ForgotPassword />}
    </main>
  );
}

function NewPassword({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const { busy, error, fieldErrors: errors, run } = useSubmission();
  const [done, setDone] = useState(false);
  const mismatch = repeat !== "" && repeat !== password;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password !== repeat) return;
    await run(async () => {
      await admin.resetPassword({ token, password });
      setDone(true);
    });
  };

  if (done) {
    return (
      <div className="auth-card" role="status">
        <h1>Password changed</h1>
        <p>Your other sessions were signed out. Sign in with the new password.</p>
        <Link className="btn btn-primary" to="/login">Sign in</Link>
      </div>
    );
  }

  return (
    <form className="auth-card" onSubmit={(e) => void submit(e)}>
      <h1>Choose a new password</h1>
      {error != null && <ProblemBanner error={error} />}
      <Input label="New password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" autoFocus errors={errors.password} />
      <Input label="Repeat the password" type="password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required autoComplete="new-password"
        errors={mismatch ? ["The two passwords differ."] : undefined} />
      <Button type="submit" variant="primary" busy={busy} disabled={mismatch}>Set password</Button>
      {errors.token && <p className="muted">The link works once and expires; ask for a new one below.</p>}
      <p className="muted"><Link to="/reset-password">Get a new link</Link> · <Link to="/login">Sign in</Link></p>
    </form>
  );
}

function ForgotPassword() {
  const [email, setEmail] = useState("");
  const { busy, error, run } = useSubmission();
  const [sent, setSent] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      await admin.forgotPassword(email);
      setSent(true);
    });
  };

  return (
    <form className="auth-card" onSubmit={(e) => void submit(e)}>
      <h1>Reset your password</h1>
      {sent ? (
        <p role="status">
          If <strong>{email}</strong> has an account, a reset link is on its way. No mail? This server may not send e-mail: an instance
          admin can give you a link instead.
        </p>
      ) : (
        <>
          {error != null && <ProblemBanner error={error} />}
          <Input label="E-mail address" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="username" autoFocus />
          <Button type="submit" variant="primary" busy={busy}>Send a reset link</Button>
        </>
      )}
      <p className="muted"><Link to="/login">Back to sign-in</Link></p>
    </form>
  );
}
