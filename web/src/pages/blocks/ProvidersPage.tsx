import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { blocks, providerKinds, type ModelPrice, type Provider, type ProviderRequest, type ProviderTest } from "../../api/blocks";
import { Button, type Column, Dialog, EmptyState, Input, LoadFailed, Loading, ProblemBanner, Select, Table, useSubmission, useToast } from "../../components";
import { useCanEdit, useIsAdmin } from "../../app/permissions";
import { ConfirmDialog, ListView, usePagedList } from "../admin/shared";

const kindLabels: Record<string, string> = { openai: "OpenAI-compatible", anthropic: "Anthropic", mock: "Mock (tests)" };

const baseUrlHint: Record<string, string> = {
  openai: "The API root including /v1: https://api.openai.com/v1, or a local Ollama at http://localhost:11434/v1.",
  anthropic: "The host without /v1; empty means https://api.anthropic.com.",
  mock: "The mock answers by itself and needs no address.",
};

/**
 * The model providers this workspace can call: its own (admins manage them; keys are write-only) and the instance's,
 * which the operator configured and which show here read-only unless the workspace overrides one by name.
 */
export function ProvidersPage() {
  const { workspace = "" } = useParams();
  const isAdmin = useIsAdmin(workspace);
  const canTest = useCanEdit(workspace);
  const toast = useToast();
  const [editing, setEditing] = useState<Provider | "new" | { override: Provider } | null>(null);
  const [deleting, setDeleting] = useState<Provider | null>(null);
  const [testing, setTesting] = useState<Provider | null>(null);
  const load = useCallback((link: string | null, signal: AbortSignal) => blocks.providers(workspace, link, signal), [workspace]);
  const list = usePagedList(load, workspace);

  const columns: Column<Provider>[] = [
    {
      key: "name", header: "Provider", cell: (p) => (
        <div className="cell-name">
          <code className="strong">{p.name}</code>
          <span className="muted">{kindLabels[p.kind] ?? p.kind}</span>
        </div>
      ),
    },
    { key: "scope", header: "Configured by", cell: (p) => (p.scope === "instance" ? <span className="badge" title="Set by the server's operator; read-only here">Instance</span> : <span className="badge badge-accent">Workspace</span>) },
    { key: "baseUrl", header: "Base URL", cell: (p) => (p.baseUrl ? <code className="break">{p.baseUrl}</code> : <span className="muted">Default</span>) },
    {
      key: "key", header: "API key", cell: (p) => (p.apiKeySet
        ? <span aria-label={p.apiKeyHint ? `Key set, ending in ${p.apiKeyHint}` : "Key set"}><code>••••{p.apiKeyHint ?? ""}</code></span>
        : <span className="muted">None</span>),
    },
    { key: "model", header: "Default model", cell: (p) => (p.defaultModel ? <code>{p.defaultModel}</code> : <span className="muted">—</span>) },
    { key: "limits", header: "Timeout, retries", cell: (p) => <span>{p.timeout}, {p.maxRetries}</span> },
    {
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (p) => (
        <div className="row-actions">
          {canTest && <Button onClick={() => setTesting(p)} aria-label={`Test ${p.name}`}>Test</Button>}
          {isAdmin && p.scope === "workspace" && <Button onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>Edit</Button>}
          {isAdmin && p.scope === "workspace" && <Button variant="ghost" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>Delete</Button>}
          {isAdmin && p.scope === "instance" && <Button variant="ghost" onClick={() => setEditing({ override: p })} aria-label={`Override ${p.name} for this workspace`}>Override</Button>}
        </div>
      ),
    },
  ];

  const editingProvider = editing !== null && editing !== "new" && !("override" in editing) ? editing : null;
  const overriding = editing !== null && editing !== "new" && "override" in editing ? editing.override : null;

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <h1>Model providers</h1>
          <p className="muted">Personas and steps name a provider; the workspace's own wins over the instance's of the same name.</p>
        </div>
        <div className="page-actions">{isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>Connect a provider</Button>}</div>
      </header>

      <ListView list={list} label="providers" empty={(
        <EmptyState title="No providers" action={isAdmin && <Button variant="primary" onClick={() => setEditing("new")}>Connect a provider</Button>}>
          <p>Connect OpenAI, Anthropic, or any OpenAI-compatible server (Ollama, vLLM, LiteLLM) with its address and key.</p>
        </EmptyState>
      )}>
        {(rows) => <Table caption="Model providers" columns={columns} rows={rows} rowKey={(p) => `${p.scope}:${p.name}`} />}
      </ListView>

      <PricesSection workspace={workspace} isAdmin={isAdmin} />

      <ProviderDialog workspace={workspace} open={editing !== null} provider={editingProvider} override={overriding} onClose={() => setEditing(null)}
        onSaved={(p, created) => { setEditing(null); toast.success(`Provider ${p.name} ${created ? "connected" : "saved"}.`); list.reload(); }} />
      <TestDialog workspace={workspace} provider={testing} onClose={() => setTesting(null)} />
      <ConfirmDialog open={deleting !== null} title="Delete the provider?" confirmLabel="Delete provider" onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await blocks.deleteProvider(workspace, deleting);
          toast.success(`Provider ${deleting.name} deleted.`);
          setDeleting(null);
          list.reload();
        }}>
        <p>The provider <code>{deleting?.name}</code> and its stored key go. Personas and steps that name it then use the instance's provider of
          that name, if there is one, or fail.</p>
      </ConfirmDialog>
    </div>
  );
}

function ProviderDialog({ workspace, open, provider, override, onClose, onSaved }: {
  workspace: string;
  open: boolean;
  provider: Provider | null;
  override: Provider | null;
  onClose: () => void;
  onSaved: (provider: Provider, created: boolean) => void;
}) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState("openai");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [removeKey, setRemoveKey] = useState(false);
  const [defaultModel, setDefaultModel] = useState("");
  const [timeout, setTimeoutText] = useState("");
  const [maxRetries, setMaxRetries] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });

  useEffect(() => {
    if (!open) return;
    const from = provider ?? override;
    setName(from?.name ?? "");
    setKind(from?.kind ?? "openai");
    setBaseUrl(from?.baseUrl ?? "");
    setDefaultModel(from?.defaultModel ?? "");
    setTimeoutText(provider?.timeout ?? "");
    setMaxRetries(provider ? String(provider.maxRetries) : "");
    setApiKey("");
    setRemoveKey(false);
    reset();
  }, [open, provider, override, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const retries = maxRetries.trim();
    const body: ProviderRequest = {
      baseUrl: provider ? baseUrl : baseUrl || undefined,
      defaultModel: provider ? defaultModel : defaultModel || undefined,
      timeout: timeout || undefined,
      maxRetries: retries === "" ? undefined : Number(retries),
    };
    // The key is write-only: sent only when typed, or as "" to remove it.
    if (removeKey) body.apiKey = "";
    else if (apiKey) body.apiKey = apiKey;
    await run(async () => {
      const saved = provider ? await blocks.updateProvider(workspace, provider, body) : await blocks.createProvider(workspace, { ...body, name, kind });
      onSaved(saved, !provider);
    });
  };

  return (
    <Dialog open={open} title={provider ? `Edit ${provider.name}` : override ? `Override ${override.name}` : "Connect a provider"} onClose={onClose}>
      <form className="stack form-wide" onSubmit={(e) => void submit(e)} noValidate autoComplete="off">
        {error != null && <ProblemBanner error={error} />}
        {override && <p className="muted">A workspace provider named <code>{override.name}</code> replaces the instance's for this workspace only.</p>}
        <div className="field-grid">
          <Input label="Name" value={name} onChange={(e) => setName(e.target.value)} disabled={!!provider || !!override} autoFocus={!provider && !override}
            errors={errors.name} spellCheck={false} hint={provider ? "The name stays: personas and steps refer to it." : "How personas and steps name it, such as openai or local-llama."} />
          <Select label="Kind" value={kind} onChange={(e) => setKind(e.target.value)} disabled={!!provider} errors={errors.kind}
            options={providerKinds.map((k) => ({ value: k, label: kindLabels[k] ?? k }))} />
        </div>
        <Input label="Base URL" type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} errors={errors.baseUrl} spellCheck={false} hint={baseUrlHint[kind]} />
        <Input label="API key" type="password" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="new-password" disabled={removeKey} errors={errors.apiKey}
          hint={provider?.apiKeySet ? `A key ending in ${provider.apiKeyHint ?? "…"} is stored. Leave empty to keep it.` : "Write-only: stored encrypted, never shown again, never logged."} />
        {provider?.apiKeySet && (
          <label className="checkbox"><input type="checkbox" checked={removeKey} onChange={(e) => setRemoveKey(e.target.checked)} /> Remove the stored key</label>
        )}
        <Input label="Default model" value={defaultModel} onChange={(e) => setDefaultModel(e.target.value)} errors={errors.defaultModel} spellCheck={false}
          placeholder={kind === "anthropic" ? "claude-sonnet-4-5" : "gpt-4o-mini"} hint="Used when a persona or step names none." />
        <div className="field-grid">
          <Input label="Timeout" value={timeout} onChange={(e) => setTimeoutText(e.target.value)} errors={errors.timeout} placeholder="120s"
            hint="How long one attempt waits for the answer to start: 1s to 1h." />
          <Input label="Retries" value={maxRetries} onChange={(e) => setMaxRetries(e.target.value)} inputMode="numeric" errors={errors.maxRetries} placeholder="2"
            hint="After a 429, a 5xx or a dropped connection: 0–10." />
        </div>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>{provider ? "Save" : "Connect"}</Button>
        </div>
      </form>
    </Dialog>
  );
}

/** Asks the provider for a one-word answer: a failed call is the result (the provider's own error), not a problem. */
function TestDialog({ workspace, provider, onClose }: { workspace: string; provider: Provider | null; onClose: () => void }) {
  const [model, setModel] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission();
  const [result, setResult] = useState<ProviderTest | null>(null);
  useEffect(() => { if (provider) { setModel(provider.defaultModel ?? ""); setResult(null); reset(); } }, [provider, reset]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!provider) return;
    setResult(null);
    await run(async () => {
      setResult(await blocks.testProvider(workspace, provider.name, model || undefined));
    });
  };

  return (
    <Dialog open={provider !== null} title={`Test ${provider?.name ?? ""}`} onClose={onClose}>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Model" value={model} onChange={(e) => setModel(e.target.value)} errors={errors.model} spellCheck={false}
          hint="Empty: the provider's default model. The test makes one small, billed call." />
        <div aria-live="polite">
          {result && (result.ok
            ? <p className="test-result test-ok">✓ <strong>{result.model}</strong> answered “{result.answer}” in {Math.round(result.latencyMs)} ms.</p>
            : <p className="test-result test-failed">✗ <strong>{result.model}</strong> failed after {Math.round(result.latencyMs)} ms: {result.error}</p>)}
        </div>
        <div className="dialog-actions">
          <Button onClick={onClose}>Close</Button>
          <Button type="submit" variant="primary" busy={busy}>Run test</Button>
        </div>
      </form>
    </Dialog>
  );
}

const usd = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 });

/** What each model costs here: the built-in list prices, with the workspace's own over them (admins set and reset those). */
function PricesSection({ workspace, isAdmin }: { workspace: string; isAdmin: boolean }) {
  const toast = useToast();
  const [prices, setPrices] = useState<ModelPrice[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filter, setFilter] = useState("");
  const [editing, setEditing] = useState<ModelPrice | "new" | null>(null);
  const [resetting, setResetting] = useState<ModelPrice | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    blocks.prices(workspace, abort.signal)
      .then((result) => { setPrices(result); setError(null); })
      .catch((e: unknown) => { if (!abort.signal.aborted) setError(e); });
    return () => abort.abort();
  }, [workspace, generation]);

  const shown = (prices ?? [])
    .filter((p) => p.model.toLowerCase().includes(filter.trim().toLowerCase()))
    .sort((a, b) => (a.source === b.source ? a.model.localeCompare(b.model) : a.source === "workspace" ? -1 : 1));

  const columns: Column<ModelPrice>[] = [
    { key: "model", header: "Model", cell: (p) => <code>{p.model}</code> },
    { key: "input", header: "Input", cell: (p) => usd.format(p.input) },
    { key: "output", header: "Output", cell: (p) => usd.format(p.output) },
    { key: "cached", header: "Cached input", cell: (p) => usd.format(p.cachedInput) },
    { key: "source", header: "Price from", cell: (p) => (p.source === "workspace" ? <span className="badge badge-accent">This workspace</span> : <span className="badge">List price</span>) },
    ...(isAdmin ? [{
      key: "actions", header: <span className="visually-hidden">Actions</span>, className: "cell-actions", cell: (p: ModelPrice) => (
        <div className="row-actions">
          <Button onClick={() => setEditing(p)} aria-label={`Set price of ${p.model}`}>Set price</Button>
          {p.source === "workspace" && <Button variant="ghost" onClick={() => setResetting(p)} aria-label={`Reset price of ${p.model}`}>Reset</Button>}
        </div>
      ),
    }] : []),
  ];

  return (
    <section className="section" aria-labelledby="prices-heading">
      <div className="section-header">
        <div>
          <h2 id="prices-heading">Prices</h2>
          <p className="muted">US dollars per million tokens; each call's cost is counted with these. A model without a price costs nothing until priced.</p>
        </div>
        <div className="page-actions">
          <Input label="Find a model" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Find a model…" className="field-inline" />
          {isAdmin && <Button onClick={() => setEditing("new")}>Price a model</Button>}
        </div>
      </div>
      {error != null && <LoadFailed error={error} onRetry={() => setGeneration((n) => n + 1)} />}
      {error == null && prices === null && <Loading label="Loading prices…" />}
      {prices !== null && (shown.length
        ? <Table caption="Model prices" columns={columns} rows={shown} rowKey={(p) => p.model} />
        : <p className="muted">{filter ? `No priced model matches “${filter}”.` : "No prices yet."}</p>)}

      <PriceDialog workspace={workspace} price={editing} onClose={() => setEditing(null)}
        onSaved={(p) => { setEditing(null); toast.success(`${p.model} now costs ${usd.format(p.input)} in, ${usd.format(p.output)} out per million tokens.`); setGeneration((n) => n + 1); }} />
      <ConfirmDialog open={resetting !== null} title="Reset the price?" confirmLabel="Reset price" onClose={() => setResetting(null)}
        onConfirm={async () => {
          if (!resetting) return;
          await blocks.deletePrice(workspace, resetting.model);
          toast.success(`${resetting.model} is back at its list price.`);
          setResetting(null);
          setGeneration((n) => n + 1);
        }}>
        <p>The workspace's own price for <code>{resetting?.model}</code> goes; the built-in list price applies again (or none, for a model it does not list).</p>
      </ConfirmDialog>
    </section>
  );
}

function PriceDialog({ workspace, price, onClose, onSaved }: { workspace: string; price: ModelPrice | "new" | null; onClose: () => void; onSaved: (price: ModelPrice) => void }) {
  const existing = price !== "new" ? price : null;
  const [model, setModel] = useState("");
  const [input, setInput] = useState("");
  const [output, setOutput] = useState("");
  const [cached, setCached] = useState("");
  const { busy, error, fieldErrors: errors, run, reset } = useSubmission({ keepBusyOnSuccess: true });
  useEffect(() => {
    if (price === null) return;
    setModel(existing?.model ?? "");
    setInput(existing ? String(existing.input) : "");
    setOutput(existing ? String(existing.output) : "");
    setCached(existing && existing.cachedInput !== existing.input ? String(existing.cachedInput) : "");
    reset();
  }, [price, existing, reset]);

  // Numbers when they read as numbers; otherwise the text, so the API's message explains it.
  const amount = (text: string) => (text.trim() === "" ? undefined : Number.isFinite(Number(text)) ? Number(text) : text);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      onSaved(await blocks.setPrice(workspace, model.trim(), { input: amount(input), output: amount(output), cachedInput: amount(cached) }));
    });
  };

  return (
    <Dialog open={price !== null} title={existing ? `Price of ${existing.model}` : "Price a model"} onClose={onClose}>
      <form className="stack form-wide" onSubmit={(e) => void submit(e)} noValidate>
        {error != null && <ProblemBanner error={error} />}
        <Input label="Model" value={model} onChange={(e) => setModel(e.target.value)} disabled={!!existing} required autoFocus={!existing} spellCheck={false}
          errors={errors.model} hint="As steps and personas name it; may contain slashes, such as openrouter/meta-llama-3-70b." />
        <div className="field-grid">
          <Input label="Input" value={input} onChange={(e) => setInput(e.target.value)} inputMode="decimal" errors={errors.input} hint="$ per million tokens" />
          <Input label="Output" value={output} onChange={(e) => setOutput(e.target.value)} inputMode="decimal" errors={errors.output} hint="$ per million tokens" />
          <Input label="Cached input" value={cached} onChange={(e) => setCached(e.target.value)} inputMode="decimal" errors={errors.cachedInput} hint="Empty: the input price" />
        </div>
        <div className="dialog-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Save price</Button>
        </div>
      </form>
    </Dialog>
  );
}
