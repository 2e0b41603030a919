import { isRouteErrorResponse, Link, useRouteError } from "react-router";
import { EmptyState } from "../components";

/**
 * What a page that failed to render shows, instead of the router's developer page: what happened, in words,
 * and the way back. The error itself goes to the console for whoever reports it.
 */
export function ErrorPage() {
  const error = useRouteError();
  console.error(error);
  const detail = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error ? error.message : String(error);
  return (
    <main className="centered">
      <EmptyState title="This page failed to show"
        action={<span className="button-row"><button type="button" className="btn btn-primary" onClick={() => window.location.reload()}>Reload</button> <Link to="/" className="btn">Go to your workspace</Link></span>}>
        <p>Something in the page went wrong; nothing was changed by it. Reloading usually helps; if it does not, report the message below.</p>
        <p><code>{detail}</code></p>
      </EmptyState>
    </main>
  );
}
