import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { api } from "../api/cadre";
import { Button, Input, Loading, ProblemBanner, ThemeToggle, useSubmission } from "../components";
import { useSession } from "../app/session";

/** Only paths inside the UI are followed after sign-in, never another origin. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  const { state, refresh } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useSubmission({ keepBusyOnSuccess: true });
  const next = safeNext(params.get("next"));

  if (state.status === "loading") return <Loading />;
  if (state.status === "setup") return <Navigate to="/setup" replace />;
  if (state.status === "signedIn") return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      await api.login(email, password);
      await refresh();
      navigate(next, { replace: true });
    });
  };

  return (
    <main className="auth-page">
      <div className="auth-corner"><ThemeToggle /></div>
      <form className="auth-card" onSubmit={(e) => void submit(e)}>
        <h1>Sign in to Cadre</h1>
        {error != null && <ProblemBanner error={error} />}
        <Input label="E-mail address" name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="username" autoFocus />
        <Input label="Password" name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" />
        <Button type="submit" variant="primary" busy={busy}>Sign in</Button>
        <p className="muted"><Link to="/reset-password">Forgot your password?</Link></p>
      </form>
    </main>
  );
}
