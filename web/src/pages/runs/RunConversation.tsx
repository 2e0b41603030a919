// The run's conversation: prompts and model answers, with the answer being written appearing word by word as its
// message_delta events arrive; and, for a session run, the box that sends the next prompt (POST …/runs/{run}/messages).
import { useState, type FormEvent } from "react";
import { ProblemError } from "../../api/client";
import { runsApi, type RunMessage } from "../../api/runs";
import { Button, ProblemBanner, Select, TextArea, Time } from "../../components";
import type { LiveText } from "./useRunStream";

export function RunConversation({ messages, live, name }: { messages: RunMessage[]; live: LiveText[]; name?: (id: string) => string }) {
  const streaming = live.map((l, index) => ({ ...l, index })).filter((l) => !l.done && l.text.length > 0);
  if (messages.length === 0 && streaming.length === 0) {
    return <p className="muted">No messages: model and agent steps write their prompts and answers here as they run.</p>;
  }
  return (
    <ol className="conversation" aria-label="Conversation">
      {messages.map((m) => (
        <li key={m.id} className={`bubble bubble-${m.role === "user" ? "user" : "assistant"}`}>
          <div className="bubble-meta">
            <strong>{m.role === "user" ? "Prompt" : "Answer"}</strong>
            {m.stepId && <> · <code>{m.stepId}</code></>}
            {m.by && <> · {name ? name(m.by) : m.by}</>}
            {m.createdAt && <> · <Time value={m.createdAt} /></>}
          </div>
          <div className="bubble-text">{m.end ? <em>Ended the session.</em> : m.text}</div>
        </li>
      ))}
      {streaming.map((l) => (
        <li key={`live-${l.index}`} className="bubble bubble-assistant bubble-streaming" aria-busy="true">
          <div className="bubble-meta"><strong>Answering…</strong> · <code>{l.stepId}</code>{l.attempt > 1 && <> · attempt {l.attempt}</>}</div>
          {/* Polite: a screen reader hears the answer as it grows, without being interrupted word by word. */}
          <div className="bubble-text" aria-live="polite" data-testid="live-text">{l.text}<span className="caret" aria-hidden="true" /></div>
        </li>
      ))}
    </ol>
  );
}

/** The next prompt of a session run, or its end; the API answers 409 when the run takes no prompts, which is shown. */
export function PromptBox({ workspace, run, onSent }: { workspace: string; run: string; onSent: () => void }) {
  const [content, setContent] = useState("");
  const [ifBusy, setIfBusy] = useState("");
  const [busy, setBusy] = useState<"send" | "end" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fieldErrors = error instanceof ProblemError ? error.problem.errors ?? {} : {};

  const send = async (end: boolean) => {
    setBusy(end ? "end" : "send");
    setError(null);
    try {
      await runsApi.sendMessage(workspace, run, end ? { end: true } : { content, ifBusy: ifBusy || undefined });
      if (!end) setContent("");
      onSent();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (content.trim()) void send(false);
  };

  return (
    <form className="prompt-box stack-tight" onSubmit={submit} aria-label="Send a prompt">
      {error != null && <ProblemBanner error={error} onDismiss={() => setError(null)} />}
      <TextArea label="Follow-up prompt" rows={3} value={content} onChange={(e) => setContent(e.target.value)} errors={fieldErrors.content}
        onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (content.trim()) void send(false); } }}
        hint="Ctrl+Enter sends. The agent answers on the workers; its answer streams in above." />
      <div className="prompt-actions">
        <Select label="If the agent is still answering" value={ifBusy} onChange={(e) => setIfBusy(e.target.value)} errors={fieldErrors.ifBusy}
          options={[{ value: "", label: "The step's choice (queue by default)" }, { value: "queue", label: "Queue it" }, { value: "interrupt", label: "Interrupt the answer" }, { value: "reject", label: "Refuse it" }]} />
        <div className="prompt-buttons">
          <Button onClick={() => void send(true)} busy={busy === "end"} disabled={busy !== null}>End session</Button>
          <Button type="submit" variant="primary" busy={busy === "send"} disabled={busy !== null || !content.trim()}>Send</Button>
        </div>
      </div>
    </form>
  );
}
