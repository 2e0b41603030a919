import { useEffect, useState } from "react";
import { instanceApi, type EncryptionRotation, type EncryptionStatus } from "../../api/instance";
import { Button, LoadFailed, Loading, Table, useToast, type Column } from "../../components";
import { ConfirmDialog, plural } from "../admin/shared";

type KeyUsage = EncryptionStatus["keys"][number];

/**
 * The key ring that seals workspace secrets (docs/operations.md): which key is current, where it came from, and how
 * many secrets each key holds. Only key IDs are shown, never key material. Rotation re-seals every secret under the
 * current key, after the server was started with the new key and the old one among the previous keys.
 */
export function EncryptionPage() {
  const toast = useToast();
  const [status, setStatus] = useState<EncryptionStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [rotation, setRotation] = useState<EncryptionRotation | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    instanceApi.encryption(abort.signal)
      .then((result) => { setStatus(result); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [attempt]);

  if (error != null) return <LoadFailed error={error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!status) return <Loading label="Loading the key ring…" />;

  const behind = status.keys.filter((k) => !k.current && k.secrets > 0);
  const columns: Column<KeyUsage>[] = [
    { key: "id", header: "Key ID", cell: (k) => <code>{k.keyId}</code> },
    { key: "use", header: "Use", cell: (k) => (k.current ? <span className="badge">current</span> : <span className="muted">previous</span>) },
    { key: "readable", header: "On this server", cell: (k) => (k.readable ? "yes" : <span className="status status-failed">missing</span>) },
    { key: "secrets", header: "Secrets sealed", cell: (k) => k.secrets },
  ];

  return (
    <section className="section" aria-labelledby="encryption-heading">
      <div className="section-header">
        <h2 id="encryption-heading">Encryption key ring</h2>
        <Button variant="primary" onClick={() => setConfirming(true)}>Rotate secrets to the current key</Button>
      </div>
      <dl className="facts">
        <div><dt>Current key</dt><dd><code>{status.keyId}</code></dd></div>
        <div><dt>From</dt><dd>{status.source}</dd></div>
        <div><dt>Secrets</dt><dd>{plural(status.secrets, "secret")}</dd></div>
      </dl>
      <Table caption="Encryption keys" columns={columns} rows={status.keys} rowKey={(k) => k.keyId} />
      <p className="muted">
        {behind.length > 0
          ? `${plural(behind.reduce((n, k) => n + k.secrets, 0), "secret")} still need an earlier key: rotate to move them under the current one before that key goes.`
          : "Every secret is under the current key."}{" "}
        To change the key, start Cadre with the new key in <code>CADRE_ENCRYPTION_KEY</code> and the old one in <code>CADRE_ENCRYPTION_PREVIOUS_KEYS</code>, then rotate.
      </p>
      {rotation && (
        <div className="rotation-result" role="status">
          <p><strong>Rotation done:</strong> {plural(rotation.reEncrypted, "secret")} re-encrypted, {rotation.alreadyCurrent} already under <code>{rotation.keyId}</code>.</p>
          {rotation.failed.length > 0 && (
            <>
              <p className="status status-failed">{plural(rotation.failed.length, "secret")} could not be read; set their values again:</p>
              <ul>{rotation.failed.map((f) => <li key={`${f.workspace}/${f.secret}`}><code>{f.workspace}/{f.secret}</code>: {f.reason}</li>)}</ul>
            </>
          )}
        </div>
      )}

      <ConfirmDialog open={confirming} title="Rotate every secret?" confirmLabel="Rotate now" onClose={() => setConfirming(false)}
        onConfirm={async () => {
          const result = await instanceApi.rotate();
          setRotation(result);
          setConfirming(false);
          toast.success(`Rotation done: ${plural(result.reEncrypted, "secret")} re-encrypted.`);
          setAttempt((n) => n + 1);
        }}>
        <p>Every workspace secret still sealed with an earlier key is read and sealed again with <code>{status.keyId}</code>. Values do not change and nothing stops; it is safe to repeat.</p>
      </ConfirmDialog>
    </section>
  );
}
