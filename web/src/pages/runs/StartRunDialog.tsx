import { useEffect, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { http } from "../../api/client";
import type { Workflow } from "../../api/types";
import { Button, Dialog, JsonField, ProblemBanner, parseJson } from "../../components";

/** Starts a run of a workflow with an input and opens its run view. */
export function StartRunDialog({ workspace, workflow, open, onClose }: { workspace: string; workflow: Workflow; open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const [input, setInput] = useState("{}");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const parsed = parseJson(input);

  useEffect(() => { if (open) { setError(null); } }, [open]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!parsed.ok) return;
    setBusy(true);
    setError(null);
    try {
      const run = await http.post<{ id: string }>(`/api/v1/workspaces/${encodeURIComponent(workspace)}/workflows/${encodeURIComponent(workflow.id)}/runs`, { input: parsed.value ?? {} });
      onClose();
      navigate(`/w/${encodeURIComponent(workspace)}/runs/${encodeURIComponent(run.id)}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title={`Start ${workflow.title || workflow.name}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} className="stack">
        {error != null && <ProblemBanner error={error} />}
        <JsonField label="Input" value={input} onChange={setInput} />
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={!parsed.ok}>Start run</Button>
        </div>
      </form>
    </Dialog>
  );
}
