import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { api } from "../api/cadre";
import { Button, Input, Loading, ProblemBanner, ThemeToggle, useSubmission } from "../components";
import { useSession } from "../app/session";

/** First run: the person holding the printed setup link becomes the instance owner. */
export function SetupPage() {
  const { state, refresh } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [code, setCode] = useState(params.get("code") ?? "");
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, fieldErrors, run } = useSubmission({ keepBusyOnSuccess: true });

  if (state.status === "loading") return <Loading />;
  if (state.status !== "setup") return <Navigate to="/" replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      await api.completeSetup({ code: code.trim(), email, displayName, password });
      await refresh();
      navigate("/", { replace: true });
    });
  };

  return (
    <main className="auth-page">
      <div className="auth-corner"><ThemeToggle /></div>
      <form className="auth-card" onSubmit={(e) => void submit(e)} noValidate={false}>
        <h1>Welcome to Cadre</h1>
        <p className="muted">
          This instance has no users yet. The first person becomes its <strong>owner</strong>: they create
          workspaces and invite everyone else. The setup code was printed by the server when it started
          (the link beside it fills it in).
        </p>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Setup code" name="code" value={code} onChange={(e) => setCode(e.target.value)} required autoComplete="off" errors={fieldErrors.code} />
        <Input label="Your name" name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required autoComplete="name" errors={fieldErrors.displayName} />
        <Input label="E-mail address" name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" errors={fieldErrors.email} />
        <Input label="Password" name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" errors={fieldErrors.password} hint="Long beats clever: a few words make a strong one." />
        <Button type="submit" variant="primary" busy={busy}>Create the owner account</Button>
      </form>
    </main>
  );
}
