/** Holds a page's place in the routes while it is being built (replaced page by page; never shipped as is). */
export function PlannedPage({ title }: { title: string }) {
  return (
    <div className="page">
      <header className="page-header"><h1>{title}</h1></header>
      <p className="muted">This page is being built.</p>
    </div>
  );
}
