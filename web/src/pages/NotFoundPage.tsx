import { Link } from "react-router";
import { EmptyState } from "../components";

export function NotFoundPage() {
  return (
    <main className="centered">
      <EmptyState title="Page not found" action={<Link to="/" className="btn btn-primary">Go to your workspace</Link>}>
        <p>Nothing in Cadre lives at this address. It may have been renamed or deleted.</p>
      </EmptyState>
    </main>
  );
}
