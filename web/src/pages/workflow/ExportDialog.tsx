import { useEffect, useState, type FormEvent } from "react";
import { workflowsApi, type ExportFormat, type WorkflowFilters } from "../../api/workflows";
import { Button, Dialog, ProblemBanner, useSubmission, useToast } from "../../components";
import { saveFile } from "./transfer";

/** What to export: every workflow the list's filters match, or one workflow (by name). */
export type ExportTarget = { filters: WorkflowFilters; count?: number } | { workflow: string; label: string };

/**
 * Downloads an export document (docs/workflows.md, "Export and import") as JSON or YAML. The file is read from the
 * API first and then saved, so a refusal shows here as the API's problem. Viewers may export; nothing changes.
 */
export function ExportDialog({ workspace, target, open, onClose }: { workspace: string; target: ExportTarget; open: boolean; onClose: () => void }) {
  const [format, setFormat] = useState<ExportFormat>("json");
  const { busy, error, reset, run } = useSubmission();
  const toast = useToast();

  useEffect(() => { if (open) { setFormat("json"); reset(); } }, [open, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const file = await workflowsApi.export(workspace, "workflow" in target ? { workflow: target.workflow } : { filters: target.filters }, format);
      saveFile(file);
      onClose();
      toast.success(`Exported ${file.fileName}.`);
    });
  };

  const one = "workflow" in target;
  const count = one ? 1 : target.count;
  return (
    <Dialog open={open} title={one ? `Export ${target.label}` : "Export workflows"} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <p>
          {one
            ? "Its definition, as a document another workspace (or instance) can import."
            : <>Every workflow the list's search and filters match, on every page{count === undefined ? "" : count === 1 ? " (1 workflow)" : ` (${count} workflows)`}, in one document another workspace can import.</>}
          {" "}Personas and teams are named; secrets are named only, never their values.
        </p>
        <fieldset className="fieldset radio-group">
          <legend>Format</legend>
          <label className="checkbox"><input type="radio" name="export-format" checked={format === "json"} onChange={() => setFormat("json")} /> JSON</label>
          <label className="checkbox"><input type="radio" name="export-format" checked={format === "yaml"} onChange={() => setFormat("yaml")} /> YAML (easier to review in a pull request)</label>
        </fieldset>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Download</Button>
        </div>
      </form>
    </Dialog>
  );
}
