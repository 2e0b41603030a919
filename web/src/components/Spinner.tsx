/** A loading indicator; the label is what a screen reader announces. */
export function Spinner({ size = "normal", label = "Loading…" }: { size?: "small" | "normal"; label?: string }) {
  return (
    <span className={`spinner spinner-${size}`} role={label ? "status" : undefined}>
      <span className="spinner-ring" aria-hidden="true" />
      {label && <span className="visually-hidden">{label}</span>}
    </span>
  );
}

/** A whole region waiting for its data. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading">
      <Spinner label="" />
      <span role="status">{label}</span>
    </div>
  );
}
