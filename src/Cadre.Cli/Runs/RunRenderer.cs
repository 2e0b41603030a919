using System.Globalization;
using System.Text.Json.Nodes;

namespace Cadre.Cli.Runs;

/// <summary>
/// Turns a run's events into its transcript: a line when a step starts, succeeds (with how long it took)
/// or fails (with why), the text models stream as it arrives, logs, links, usage, approvals waiting (with
/// the command that decides them) and the run's pauses. The live display also gets the steps under way.
/// </summary>
/// <param name="readRun">Reads the run document again: step times come from the server's record, so a replayed history shows true durations.</param>
internal sealed class RunRenderer(IRunDisplay display, JsonObject run, Func<CancellationToken, Task<JsonObject>> readRun, TimeProvider time)
{
    private readonly Dictionary<string, ActiveStep> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _startedAt = new(StringComparer.Ordinal);
    private JsonObject _run = run;
    private string? _streaming;

    /// <summary>The run's latest status as its events told it.</summary>
    public string? Status { get; private set; }

    public async Task HandleAsync(RunEvent item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var data = item.Data;
        var stepId = data["stepId"]?.ToString() ?? "";
        switch (item.Type)
        {
            case "status":
                RunStatusChanged(data);
                break;
            case "step":
                await StepChangedAsync(stepId, data, cancellationToken);
                break;
            case "message_delta":
                if (_streaming != stepId)
                {
                    display.EndText();
                    if (_streaming is not null)
                    {
                        // Two steps streaming at once: say whose words follow.
                        display.Line($"  … {stepId}:", Tone.Dim);
                    }

                    _streaming = stepId;
                }

                display.Text(data["text"]?.ToString() ?? "");
                break;
            case "message":
                Message(stepId, data);
                break;
            case "prompt":
                display.Line(data["end"]?.GetValue<bool>() == true ? "> (the session is asked to end)" : $"> {data["text"]}", Tone.Dim);
                break;
            case "log":
                var level = data["level"]?.ToString();
                display.Line($"{(level == "info" ? " " : "⚠")} {stepId}: {data["message"]}", level == "info" ? Tone.Dim : Tone.Warn);
                break;
            case "link":
                display.Line($"  {data["name"]}: {data["url"]}");
                break;
            case "usage":
                display.Line($"  {stepId}: {data["model"]} · {RunText.Usage(data) ?? "0 tokens"}", Tone.Dim);
                break;
            case "approval":
                Approval(data);
                break;
            case "loop":
                display.Line($"↻ {stepId} pass {data["iteration"]}", Tone.Dim);
                break;
            default:
                break;
        }
    }

    private void RunStatusChanged(JsonObject data)
    {
        var previous = Status;
        Status = data["status"]?.ToString();
        var by = data["by"]?.ToString();
        switch (Status)
        {
            case "halted":
                display.Line($"‖ Run halted{(by is null ? "" : $" by {by}")}; it stays so until `cadre runs resume {_run["id"]}`.", Tone.Warn);
                break;
            case "compensating":
                display.Line("↺ Run compensating: undoing the steps that succeeded", Tone.Warn);
                break;
            case "running" when data["reason"]?.ToString() == "retry":
                display.Line($"↻ Run retried{(by is null ? "" : $" by {by}")}", Tone.Dim);
                break;
            case "running" when previous is "halted" or "compensating" && by is not null:
                display.Line($"▶ Run resumed by {by}", Tone.Dim);
                break;
            default:
                break;
        }

        if (Status is not null && RunStatus.IsFinal(Status))
        {
            _active.Clear();
            display.Active([]);
        }
    }

    private async Task StepChangedAsync(string stepId, JsonObject data, CancellationToken cancellationToken)
    {
        var status = data["status"]?.ToString();
        var attempt = (int)RunText.Long(data["attempt"]);
        var iteration = (int)RunText.Long(data["iteration"]);
        var of = (attempt > 1 ? $" (attempt {attempt})" : "") + (iteration > 1 ? $" (pass {iteration})" : "");
        switch (status)
        {
            case "started":
                _startedAt[stepId] = time.GetTimestamp();
                Activate(stepId, "running");
                display.Line($"▶ {stepId} started{of}", Tone.Dim);
                break;
            case "succeeded":
                EndStreaming(stepId);
                Deactivate(stepId);
                display.Line($"✓ {stepId} succeeded{Took(await DurationAsync(stepId, status, attempt, iteration, cancellationToken))}{of}", Tone.Good);
                break;
            case "failed":
                EndStreaming(stepId);
                Deactivate(stepId);
                display.Line($"✗ {stepId} failed{Took(await DurationAsync(stepId, status, attempt, iteration, cancellationToken))}{of}: {RunText.Error(data["error"])}", Tone.Bad);
                break;
            case "retrying":
                EndStreaming(stepId);
                var retryAt = RunText.Time(data["retryAt"]);
                Activate(stepId, "retrying", retryAt is null ? null : $"again at {retryAt.Value.ToLocalTime():HH:mm:ss}");
                display.Line($"↻ {stepId} attempt {attempt} failed: {RunText.Error(data["error"])}" +
                    (retryAt is null ? "; retrying" : $"; retrying at {retryAt.Value.ToLocalTime():HH:mm:ss}"), Tone.Warn);
                break;
            case "waiting":
                EndStreaming(stepId);
                Waiting(stepId, data);
                break;
            case "skipped" or "cancelled":
                Deactivate(stepId);
                display.Line($"– {stepId} {status}", Tone.Dim);
                break;
            case "compensating" or "compensation_started":
                Activate(stepId, "compensating");
                if (status == "compensating")
                {
                    display.Line($"↺ {stepId} compensating", Tone.Warn);
                }

                break;
            case "compensated":
                Deactivate(stepId);
                display.Line($"↺ {stepId} compensated", Tone.Warn);
                break;
            case "compensation_retrying":
                display.Line($"↻ {stepId} compensation failed: {RunText.Error(data["error"])}; retrying", Tone.Warn);
                break;
            case "compensation_failed":
                Deactivate(stepId);
                display.Line($"✗ {stepId} compensation failed: {RunText.Error(data["error"])}", Tone.Bad);
                break;
            default:
                // queued, pending (halted, retried): the run's own lines say why.
                break;
        }
    }

    private void Waiting(string stepId, JsonObject data)
    {
        switch (data["reason"]?.ToString())
        {
            case "approval":
                // The approval event that follows says who decides, and how.
                Activate(stepId, "waiting", $"approval {data["approvalId"]}");
                break;
            case "event":
                Activate(stepId, "waiting", $"event {data["eventType"]}");
                display.Line($"⏸ {stepId} waiting for an event of type {data["eventType"]}", Tone.Warn);
                break;
            case "child":
                Activate(stepId, "waiting", $"child run {data["childRunId"]}");
                display.Line($"⏸ {stepId} waiting for its child run {data["childRunId"]} (`cadre runs tail {data["childRunId"]}`)", Tone.Warn);
                break;
            case null when RunText.Time(data["until"]) is { } until:
                Activate(stepId, "waiting", $"until {until.ToLocalTime():HH:mm:ss}");
                display.Line($"⏸ {stepId} sleeping until {until.ToLocalTime():yyyy-MM-dd HH:mm:ss}", Tone.Warn);
                break;
            case var reason:
                Activate(stepId, "waiting", reason);
                display.Line($"⏸ {stepId} waiting{(reason is null ? "" : $" ({reason})")}", Tone.Warn);
                break;
        }
    }

    private void Approval(JsonObject data)
    {
        var id = data["approvalId"]?.ToString();
        var stepId = data["stepId"]?.ToString();
        var status = data["status"]?.ToString();
        if (data["decision"] is JsonObject decision)
        {
            var verb = decision["decision"]?.ToString() == "reject" ? "rejected" : "approved";
            var comment = decision["comment"]?.ToString();
            display.Line($"  {decision["by"]} {verb} {id}{(string.IsNullOrEmpty(comment) ? "" : $": {comment}")}", Tone.Dim);
            return;
        }

        switch (status)
        {
            case "pending" or "escalated":
                var approvers = data["approvers"] is JsonArray list ? string.Join(", ", list.Select(a => a?.ToString())) : "";
                var deadline = RunText.Time(data["deadline"]);
                display.Line($"⏸ {stepId} waiting for approval {id}{(status == "escalated" ? ", escalated" : "")}" +
                    (approvers.Length > 0 ? $" from {approvers}" : "") +
                    (data["quorum"] is { } quorum && RunText.Long(quorum) > 1 ? $" (quorum {quorum})" : "") +
                    (deadline is null ? "" : $", until {deadline.Value.ToLocalTime():yyyy-MM-dd HH:mm}"), Tone.Warn);
                display.Line($"  decide: cadre approvals approve {id}   (or: cadre approvals reject {id})", Tone.Warn);
                break;
            case "approved":
                display.Line($"✓ approval {id} approved ({data["reason"]})", Tone.Good);
                break;
            default:
                display.Line($"✗ approval {id} {status} ({data["reason"]})", Tone.Bad);
                break;
        }
    }

    private void Message(string stepId, JsonObject data)
    {
        var text = data["text"]?.ToString() ?? "";
        if (_streaming == stepId)
        {
            // Its words were shown as they came: the whole message only closes the line.
            EndStreaming(stepId);
            return;
        }

        if (data["role"]?.ToString() == "user")
        {
            display.Line($"> {text}", Tone.Dim);
            return;
        }

        display.EndText();
        display.Text(text);
        display.EndText();
    }

    private void EndStreaming(string stepId)
    {
        if (_streaming == stepId)
        {
            display.EndText();
            _streaming = null;
        }
    }

    private void Activate(string stepId, string state, string? detail = null)
    {
        _active[stepId] = new ActiveStep(stepId, state, _active.TryGetValue(stepId, out var was) && was.State == state ? was.Since : time.GetTimestamp(), detail);
        display.Active([.. _active.Values]);
    }

    private void Deactivate(string stepId)
    {
        if (_active.Remove(stepId))
        {
            display.Active([.. _active.Values]);
        }
    }

    private static string Took(TimeSpan? duration) => duration is { } value ? $" in {RunText.Duration(value)}" : "";

    /// <summary>
    /// How long the step's attempt took by the server's record (read again if the copy at hand predates it), else
    /// by this watch since it saw the step start, else unknown.
    /// </summary>
    private async Task<TimeSpan?> DurationAsync(string stepId, string status, int attempt, int iteration, CancellationToken cancellationToken)
    {
        if (Recorded(_run, stepId, status, attempt, iteration) is { } known)
        {
            return known;
        }

        try
        {
            _run = await readRun(cancellationToken);
            if (Recorded(_run, stepId, status, attempt, iteration) is { } read)
            {
                return read;
            }
        }
        catch (CliException)
        {
            // Only a duration is lost: the transcript goes on.
        }

        return _startedAt.TryGetValue(stepId, out var started) ? time.GetElapsedTime(started) : null;
    }

    /// <summary>The step's time by the run document, if that shows the very attempt (and loop pass) the event is about.</summary>
    private static TimeSpan? Recorded(JsonObject run, string stepId, string status, int attempt, int iteration)
    {
        var step = (run["steps"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(s => s["id"]?.ToString() == stepId);
        if (step is null || step["status"]?.ToString() != status || RunText.Long(step["attempts"]) != attempt
            || (iteration > 0 && RunText.Long(step["iteration"]) != iteration))
        {
            return null;
        }

        return (RunText.Time(step["startedAt"]), RunText.Time(step["finishedAt"])) is ({ } start, { } end) && end >= start ? end - start : null;
    }

    /// <summary>The first line: which run of which workflow.</summary>
    public static string Header(JsonNode run) =>
        string.Create(CultureInfo.InvariantCulture, $"Run {RunText.Name(run)} of {run["workflowName"]} v{run["workflowVersion"]} ({run["id"]}), {run["status"]}");
}
