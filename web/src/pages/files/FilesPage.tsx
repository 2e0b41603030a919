import { useCallback, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { fileStatuses, filesApi, formatSize, type StoredFile } from "../../api/files";
import { useCanOperate } from "../../app/permissions";
import { useAddressParam, useAddressSearch } from "../../app/useAddressSearch";
import { Button, CopyButton, EmptyState, Input, ProblemBanner, Select, Table, Time, useToast, type Column } from "../../components";
import { ActorName, ConfirmDialog, ListView, plural, usePagedList } from "../admin/shared";

/** An upload under way, or one that failed (kept until dismissed, with the API's problem). */
interface Upload {
  key: string;
  name: string;
  size: number;
  state: "uploading" | "failed";
  error?: unknown;
}

/** How long a file stays: kept once a run used it, else until it expires (or, pending, until its upload URL lapses). */
function Keeping({ file }: { file: StoredFile }) {
  if (file.referencedAt) return <span title="A run uses it: it stays until someone deletes it.">Kept <span className="muted">(used by a run since <Time value={file.referencedAt} />)</span></span>;
  if (file.status === "pending") return <span title="When its upload URL stops working">Upload until <Time value={file.uploadExpiresAt} /></span>;
  if (file.expiresAt) return <span title="Deleted then, unless a run uses it first">Until <Time value={file.expiresAt} /></span>;
  return <span className="muted">—</span>;
}

/**
 * The workspace's files (docs/files.md): what was uploaded, here or when starting a run, newest first, filtered by
 * status and by the run that uses them (both in the address). Everyone downloads a ready file and copies its
 * storage ID; operators upload and delete.
 */
export function FilesPage() {
  const { workspace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const run = params.get("run") ?? "";
  const setParam = useAddressParam();
  const [runText, setRunText] = useAddressSearch(run, useCallback((text: string) => setParam("run", text.trim()), [setParam]));
  const canOperate = useCanOperate(workspace);
  const toast = useToast();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [deleting, setDeleting] = useState<StoredFile | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const base = `/w/${encodeURIComponent(workspace)}`;

  const load = useCallback((link: string | null, signal: AbortSignal) => filesApi.list(workspace, { status, run }, link, signal), [workspace, status, run]);
  const list = usePagedList(load, `${workspace}|${status}|${run}`);
  const reload = list.reload;

  const upload = (chosen: FileList | null) => {
    for (const file of Array.from(chosen ?? [])) {
      const key = `${file.name}-${file.size}-${Math.random()}`;
      setUploads((all) => [...all, { key, name: file.name, size: file.size, state: "uploading" }]);
      filesApi.upload(workspace, file)
        .then((stored) => {
          setUploads((all) => all.filter((u) => u.key !== key));
          toast.success(`${stored.name} uploaded.`);
          reload();
        })
        .catch((e: unknown) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, state: "failed", error: e } : u))));
    }
    if (fileInput.current) fileInput.current.value = "";
  };

  const columns: Column<StoredFile>[] = [
    { key: "name", header: "Name", cell: (f) => <div className="cell-name"><span className="strong break">{f.name}</span><code className="muted break">{f.id}</code></div> },
    { key: "type", header: "Type", className: "cell-nowrap", cell: (f) => <code>{f.contentType}</code> },
    { key: "size", header: "Size", className: "cell-nowrap", cell: (f) => <span title={`${f.size} bytes`}>{formatSize(f.size)}</span> },
    { key: "status", header: "Status", cell: (f) => <span className={f.status === "ready" ? "badge badge-accent" : "badge"}>{f.status}</span> },
    { key: "created", header: "Created", cell: (f) => <div className="cell-name"><Time value={f.createdAt} /><span className="muted">by <ActorName actor={f.createdBy} /></span></div> },
    { key: "keeping", header: "Kept", cell: (f) => <Keeping file={f} /> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (f) => (
        <div className="row-actions">
          <CopyButton value={f.id} label="Copy ID" what="the storage ID" ariaLabel={`Copy the storage ID of ${f.name}`} />
          {f.status === "ready" && <a className="btn" href={filesApi.contentUrl(workspace, f.id)} download={f.name} aria-label={`Download ${f.name}`}>Download</a>}
          {canOperate && <Button variant="ghost" onClick={() => setDeleting(f)} aria-label={`Delete ${f.name}`}>Delete</Button>}
        </div>
      ),
    },
  ];

  const uploadButton = canOperate && <Button variant="primary" onClick={() => fileInput.current?.click()}>Upload files</Button>;
  const filtered = status !== "" || run !== "";

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Files</h1>
          {list.page && <p className="muted" aria-live="polite">{plural(list.page.count, "file")}{filtered && " matching the filters"}</p>}
        </div>
        <div className="page-actions">
          {canOperate && (
            <input ref={fileInput} type="file" multiple hidden aria-label="Files to upload" onChange={(e) => upload(e.target.files)} />
          )}
          {uploadButton}
        </div>
      </header>
      <p className="page-intro muted">
        What runs work on: screenshots, PDFs, CSVs. Runs name a file by its storage ID (<code>{'{"storageId": "file_…"}'}</code> in
        {" "}<code>attachments</code>), steps read it as <code>context.attachments</code> and model steps see images. A file no run
        has used is deleted a day after its upload; one a run used stays until someone deletes it.
      </p>

      {uploads.length > 0 && (
        <ul className="attachment-list" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key} className={`attachment attachment-${u.state}`}>
              <span className="attachment-name">{u.name}</span>
              <span className="muted"> {formatSize(u.size)}</span>
              <span className="attachment-state" role="status">{u.state === "uploading" ? " uploading…" : " failed"}</span>
              {u.state === "failed" && (
                <Button variant="ghost" aria-label={`Dismiss ${u.name}`} onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}>×</Button>
              )}
              {u.state === "failed" && u.error != null && <ProblemBanner error={u.error} />}
            </li>
          ))}
        </ul>
      )}

      <div className="filters" role="group" aria-label="Filter files">
        <Select label="Status" value={status} onChange={(e) => setParam("status", e.target.value)} className="field-inline"
          options={[{ value: "", label: "Any status" }, ...fileStatuses.map((s) => ({ value: s, label: s }))]} />
        <Input label="Used by run" value={runText} onChange={(e) => setRunText(e.target.value)} placeholder="run_…" className="field-inline" spellCheck={false} />
        {run && <Link to={`${base}/runs/${encodeURIComponent(run)}`}>Open the run</Link>}
        <Button variant="ghost" onClick={reload}>Refresh</Button>
      </div>

      <ListView list={list} label="files" empty={filtered ? (
        <EmptyState title="No file matches" action={<Button onClick={() => setParams({}, { replace: true })}>Clear the filters</Button>}>
          <p>{run ? "That run uses no file here (or there is no such run)." : `No file is ${status}.`}</p>
        </EmptyState>
      ) : (
        <EmptyState title="No files yet" action={uploadButton}>
          <p>Files are what runs look at: a screenshot for an agent to check, a PDF a run is about, a CSV a step reads. Upload them here,
            or attach them when starting a run; a run names each by its storage ID, and model steps are shown the images.</p>
          <p>Nothing to keep by hand: a file no run uses is deleted a day after its upload.</p>
          {!canOperate && <p>Operators of this workspace can upload them.</p>}
        </EmptyState>
      )}>
        {(rows) => <Table caption="Files" columns={columns} rows={rows} rowKey={(f) => f.id} />}
      </ListView>

      <ConfirmDialog open={deleting !== null} title="Delete the file?" confirmLabel="Delete file" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await filesApi.remove(workspace, deleting.id);
          toast.success(`${deleting.name} deleted.`);
          setDeleting(null);
          reload();
        }}>
        <p><strong>{deleting?.name}</strong> and its bytes are deleted. A run that used it cannot be rerun, and a failed one that is
          retried fails the steps that read it (<code>file_missing</code>). A run still in progress keeps it: Cadre refuses until it ends.</p>
      </ConfirmDialog>
    </div>
  );
}
