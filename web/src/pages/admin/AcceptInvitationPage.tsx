import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { admin, type InvitationPreview } from "../../api/admin";
import { ProblemError } from "../../api/client";
import { Button, Input, Loading, ProblemBanner, ThemeToggle, Time, useSubmission } from "../../components";
import { useSession } from "../../app/session";

/**
 * Where an invitation's link leads (/invitations/accept?token=…): what the invitation offers, then joining — signed in
 * with the invited address, with an existing account's password, or by making the account.
 */
export function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { state, refresh, signOut } = useSession();
  const navigate = useNavigate();
  const [preview, setPreview] = useState<InvitationPreview | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, fieldErrors: errors, run } = useSubmission({ keepBusyOnSuccess: true });

  useEffect(() => {
    if (!token) return;
    admin.previewInvitation(token).then(setPreview, setPreviewError);
  }, [token]);

  const signedIn = state.status === "signedIn" ? state.me : null;
  const signedInAs = signedIn?.user?.email ?? null;
  const sameAccount = signedInAs !== null && preview !== null && signedInAs.toLowerCase() === preview.email.toLowerCase();

  const accept = async (event: FormEvent) => {
    event.preventDefault();
    if (!preview) return;
    await run(async () => {
      const accepted = await admin.acceptInvitation(sameAccount ? { token } : preview.accountExists ? { token, password } : { token, displayName, password });
      await refresh();
      navigate(`/w/${encodeURIComponent(accepted.workspace)}/workflows`, { replace: true });
    });
  };

  let body;
  if (!token) {
    body = <ProblemBanner error={new ProblemError({ title: "This link has no invitation in it", status: 0, detail: "Open the link exactly as it was sent to you, or ask for a new invitation." })} />;
  } else if (previewError != null) {
    body = (
      <>
        <ProblemBanner error={previewError} />
        <p className="muted">An invitation works once and expires; ask a workspace admin to invite you again.</p>
      </>
    );
  } else if (!preview || state.status === "loading") {
    body = <Loading label="Opening the invitation…" />;
  } else {
    body = (
      <>
        <p>
          {preview.invitedBy ? <><strong>{preview.invitedBy.name}</strong> invites</> : "You are invited as"} <strong>{preview.email}</strong> to
          the workspace <strong>{preview.workspaceDisplayName}</strong> as <strong>{preview.role}</strong>.
        </p>
        <p className="muted">The invitation expires <Time value={preview.expiresAt} />.</p>
        {error != null && <ProblemBanner error={error} />}
        {signedIn && !sameAccount ? (
          <>
            <p>You are signed in as <strong>{signedInAs ?? signedIn.actor.name}</strong>, not as the invited address. Sign out, then open the link again.</p>
            <Button onClick={() => void signOut()}>Sign out</Button>
          </>
        ) : sameAccount ? (
          <Button type="submit" variant="primary" busy={busy}>Join {preview.workspaceDisplayName}</Button>
        ) : preview.accountExists ? (
          <>
            <p className="muted">This address has an account: give its password to join.</p>
            <Input label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="current-password" errors={errors.password} autoFocus />
            <Button type="submit" variant="primary" busy={busy}>Sign in and join</Button>
          </>
        ) : (
          <>
            <p className="muted">Make your account to join.</p>
            <Input label="Your name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required autoComplete="name" errors={errors.displayName} autoFocus />
            <Input label="Password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" errors={errors.password} />
            <Button type="submit" variant="primary" busy={busy}>Create account and join</Button>
          </>
        )}
      </>
    );
  }

  return (
    <main className="auth-page">
      <div className="auth-corner"><ThemeToggle /></div>
      <form className="auth-card" onSubmit={(e) => void accept(e)}>
        <h1>Join a workspace</h1>
        {body}
        {!signedIn && <p className="muted"><Link to="/login">Sign in</Link> instead</p>}
      </form>
    </main>
  );
}
