using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Workflows;

namespace Cadre.Runs;

/// <summary>
/// A run loaded for one commit: its row and step rows (tracked), the compiled workflow version, and
/// what the commit adds (tasks, events). All scheduling decisions are made here, in memory, and
/// saved together, so a commit is the unit of progress: the result of an attempt, the run's new
/// state and the newly ready work land at once or not at all.
/// </summary>
internal sealed class RunState
{
    public static readonly string[] Active = ["pending", "queued", "running", "waiting", "retrying"];

    private readonly Dictionary<string, HashSet<string>> _dependents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _loopOf = new(StringComparer.Ordinal);
    private readonly JsonObject _stepsView = [];
    private readonly Dictionary<string, (string? Status, string? Output, string? Error)> _viewed = new(StringComparer.Ordinal);
    private JsonNode? _context;
    private int _completedOrder;

    public RunState(Run run, IReadOnlyList<RunStep> steps, CompiledWorkflow workflow, JsonObject workflowValues, DateTime now)
    {
        Run = run;
        InitialStatus = run.Status;
        InitialRestedAt = run.RestedAt;
        InitialPersonas = run.Personas;
        Steps = steps.ToDictionary(s => s.StepId, StringComparer.Ordinal);
        Workflow = workflow;
        WorkflowValues = workflowValues;
        Now = now;
        _completedOrder = steps.Max(s => s.CompletedOrder) ?? 0;
        foreach (var (id, step) in workflow.Steps)
        {
            foreach (var dependency in step.Step.DependsOn ?? [])
            {
                if (!_dependents.TryGetValue(dependency, out var set))
                {
                    set = new HashSet<string>(StringComparer.Ordinal);
                    _dependents[dependency] = set;
                }

                set.Add(id);
            }

            foreach (var member in step.Step.Loop?.Body ?? [])
            {
                _loopOf[member] = id;
            }
        }
    }

    public Run Run { get; }

    /// <summary>The status when loaded, to tell what this commit changed.</summary>
    public string InitialStatus { get; }

    /// <summary>When the run last came to rest, as loaded (analytics takes that outcome back if the run moves on).</summary>
    public DateTime? InitialRestedAt { get; }

    /// <summary>The personas the run had used, as loaded.</summary>
    public string? InitialPersonas { get; }

    /// <summary>Model calls this commit records (for analytics).</summary>
    public List<Analytics.UsageRecord> Usage { get; } = [];

    /// <summary>How long each approval this commit settled was waited for.</summary>
    public List<TimeSpan> ApprovalWaits { get; } = [];

    /// <summary>This commit gave up the run's concurrency slot (it ended or halted).</summary>
    public bool Released => InitialStatus is "running" or "waiting" or "compensating" && Run.Status is not ("running" or "waiting" or "compensating");

    public Dictionary<string, RunStep> Steps { get; }

    public CompiledWorkflow Workflow { get; }

    public JsonObject WorkflowValues { get; }

    public DateTime Now { get; }

    /// <summary>
    /// The secrets the workflow reads, decrypted for this commit (<see cref="RunEngine"/> loads them),
    /// and the redactor that keeps their values out of everything the commit saves.
    /// </summary>
    public Secrets.ResolvedSecrets Secrets { get; set; } = Cadre.Secrets.ResolvedSecrets.None;

    /// <summary>Step rows of a run being created (inserted with the commit rather than tracked).</summary>
    public List<RunStep> NewSteps { get; } = [];

    public List<RunTask> NewTasks { get; } = [];

    public List<RunEvent> NewEvents { get; } = [];

    /// <summary>Tasks this commit queued for other runs' steps (woken by an emitted event), to wake workers for.</summary>
    public int OtherTasksQueued { get; set; }

    /// <summary>Cadre's own happenings in this commit (<c>approval.decided</c>…), recorded as events when a workflow listens for them.</summary>
    public List<(string Type, JsonObject Payload)> Happenings { get; } = [];

    /// <summary>This commit recorded workspace events the trigger dispatcher has still to look at.</summary>
    public bool EventsToDispatch { get; set; }

    /// <summary>This commit queued outbound webhook deliveries (the run's notifications).</summary>
    public bool DeliveriesQueued { get; set; }

    /// <summary>The run's context (<c>context</c> in templates).</summary>
    public JsonObject Context => (_context ??= JsonNode.Parse(Run.Context))!.AsObject();

    /// <summary>Approvals an approval step opened in this commit, with who may decide.</summary>
    public List<(Approval Approval, IReadOnlyList<string> Approvers)> NewApprovals { get; } = [];

    /// <summary>This commit ended the run or halted it (what the run's span and the finished-runs count are recorded on).</summary>
    public bool CameToRest { get; private set; }

    /// <summary>Queued tasks of this run to cancel: all of them when the run ends; only step and compensation work when it is halted (timers keep running).</summary>
    public string[]? CancelQueuedKinds { get; set; }

    public static bool IsTerminalStatus(string status) => status is "succeeded" or "failed" or "compensated";

    /// <summary>Statuses a run rests in until someone acts: the ends, and halted. Analytics counts a run when it comes to rest.</summary>
    public static bool IsRestingStatus(string status) => IsTerminalStatus(status) || status == "halted";

    /// <summary>The run has ended for good (halted runs may resume).</summary>
    public bool IsTerminal => IsTerminalStatus(Run.Status);

    public void Emit(string type, JsonObject data)
    {
        NewEvents.Add(new RunEvent { RunId = Run.Id, WorkspaceId = Run.WorkspaceId, Type = type, Data = data.ToJsonString(), CreatedAt = Now });
    }

    public void EmitStep(string stepId, string status, JsonObject? extra = null)
    {
        var data = new JsonObject { ["stepId"] = stepId, ["status"] = status, ["attempt"] = Steps[stepId].Attempts };
        if (Steps[stepId].Iteration > 1 || _loopOf.ContainsKey(stepId))
        {
            data["iteration"] = Steps[stepId].Iteration;
        }

        foreach (var (key, value) in extra ?? [])
        {
            data[key] = value?.DeepClone();
        }

        Emit("step", data);
    }

    public void SetRunStatus(string status, JsonObject? extra = null)
    {
        if (Run.Status == status)
        {
            return;
        }

        Run.Status = status;
        if (status == "running" && Run.StartedAt is null)
        {
            Run.StartedAt = Now;
        }

        CameToRest = IsTerminalStatus(status) || status == "halted";
        if (IsTerminalStatus(status))
        {
            Run.FinishedAt = Now;
            CancelQueuedKinds = ["step", "timer", "compensation"];
        }

        var data = new JsonObject { ["status"] = status };
        foreach (var (key, value) in extra ?? [])
        {
            data[key] = value?.DeepClone();
        }

        Emit("status", data);
    }

    /// <summary>The values a step's templates read.</summary>
    public ExpressionScope ScopeFor(string? stepId)
    {
        var run = new JsonObject
        {
            ["id"] = Run.Id,
            ["number"] = Run.Number,
            ["displayId"] = Run.DisplayId,
            ["workflowVersion"] = Run.WorkflowVersion,
            ["trigger"] = Run.TriggerType,
            ["startedAt"] = Run.StartedAt?.ToString("O", CultureInfo.InvariantCulture),
            ["iteration"] = stepId is null ? 1 : Math.Max(1, Steps[stepId].Iteration),
        };
        var roots = new Dictionary<string, JsonNode?>
        {
            ["context"] = _context ??= JsonNode.Parse(Run.Context),
            ["steps"] = StepsView(),
            ["run"] = run,
            ["workflow"] = WorkflowValues,
            ["secrets"] = Secrets.Scope(),
        };
        // now() is the run's clock at this commit; uuid() is derived from the step, so a replay agrees.
        var counter = 0;
        return new ExpressionScope(roots, new DateTimeOffset(Now, TimeSpan.Zero), () => DeterministicId($"{Run.Id}/{stepId}/{Steps.GetValueOrDefault(stepId ?? "")?.Attempts}/{counter++}"));
    }

    /// <summary>
    /// <c>steps</c> as templates read it, kept between scopes and rebuilt only for steps that changed,
    /// so a chain of inline steps does not parse every earlier output again at each step.
    /// </summary>
    private JsonObject StepsView()
    {
        foreach (var (id, step) in Steps)
        {
            var seen = _viewed.GetValueOrDefault(id);
            if (seen.Status == step.Status && ReferenceEquals(seen.Output, step.Output) && ReferenceEquals(seen.Error, step.Error))
            {
                continue;
            }

            _viewed[id] = (step.Status, step.Output, step.Error);
            if (step.Output is not null || step.Error is not null || step.Status is "succeeded" or "failed" or "skipped")
            {
                _stepsView[id] = new JsonObject
                {
                    ["status"] = step.Status,
                    ["output"] = Parse(step.Output),
                    ["error"] = Parse(step.Error),
                };
            }
            else
            {
                _stepsView.Remove(id);
            }
        }

        return _stepsView;
    }

    /// <summary>Whether a step counts as done for the steps that depend on it.</summary>
    public bool IsDone(string stepId)
    {
        var step = Steps[stepId];
        if (_loopOf.TryGetValue(stepId, out var loop) && Steps[loop].Status != "succeeded")
        {
            return false;
        }

        return step.Status is "succeeded" or "skipped"
            || step.Status == "failed" && Workflow.Steps[stepId].Step.OnFailure == "continue";
    }

    /// <summary>Whether all of a step's dependencies let it run now.</summary>
    public bool IsReady(string stepId)
    {
        var step = Workflow.Steps[stepId].Step;
        foreach (var dependency in step.DependsOn ?? [])
        {
            // A loop's body runs while its loop step is running: the loop step stands for "this pass started".
            if (_loopOf.TryGetValue(stepId, out var loop) && dependency == loop)
            {
                if (Steps[loop].Status != "running")
                {
                    return false;
                }

                continue;
            }

            if (_loopOf.TryGetValue(dependency, out var dependencyLoop) && _loopOf.GetValueOrDefault(stepId) == dependencyLoop)
            {
                // Same loop body: done in this pass.
                var sibling = Steps[dependency];
                if (!(sibling.Status is "succeeded" or "skipped" || sibling.Status == "failed" && Workflow.Steps[dependency].Step.OnFailure == "continue"))
                {
                    return false;
                }

                continue;
            }

            if (!IsDone(dependency))
            {
                return false;
            }
        }

        return true;
    }

    public string? LoopOf(string stepId) => _loopOf.GetValueOrDefault(stepId);

    public IEnumerable<string> Dependents(string stepId) => _dependents.GetValueOrDefault(stepId) ?? [];

    /// <summary>An attempt of a step begins: it runs, counted, with a <c>started</c> event.</summary>
    public void MarkStarted(string stepId, int attempt)
    {
        var step = Steps[stepId];
        step.Status = "running";
        step.Attempts = attempt;
        step.StartedAt = Now;
        EmitStep(stepId, "started");
    }

    /// <summary>Cancels every step still to run or running (and, with <paramref name="compensations"/>, mid-undo): the run is ending.</summary>
    public void CancelOpenSteps(bool compensations)
    {
        foreach (var (id, step) in Steps)
        {
            if (step.Status is "pending" or "queued" or "running" or "retrying" or "waiting" || compensations && step.Status == "compensating")
            {
                step.Status = "cancelled";
                step.FinishedAt = Now;
                EmitStep(id, "cancelled");
            }
        }
    }

    public void MarkSucceeded(string stepId, JsonNode? output)
    {
        var step = Steps[stepId];
        step.Status = "succeeded";
        step.Output = output?.ToJsonString();
        step.Error = null;
        step.FinishedAt = Now;
        step.CompletedOrder = ++_completedOrder;
        EmitStep(stepId, "succeeded");
    }

    /// <summary>Sinks: steps nothing depends on. One sink's output is the run's; several give <c>{stepId: output}</c>.</summary>
    public JsonNode? RunOutput()
    {
        var sinks = Workflow.Steps.Keys.Where(id => !_dependents.ContainsKey(id) && !_loopOf.ContainsKey(id) && Steps[id].Status == "succeeded").ToList();
        if (sinks.Count == 1)
        {
            return Parse(Steps[sinks[0]].Output);
        }

        var output = new JsonObject();
        foreach (var sink in sinks)
        {
            output[sink] = Parse(Steps[sink].Output);
        }

        return output;
    }

    public RunTask NewTask(string stepId, string kind, int attempt, DateTime availableAt)
    {
        var task = new RunTask
        {
            RunId = Run.Id,
            WorkspaceId = Run.WorkspaceId,
            StepId = stepId,
            Kind = kind,
            Attempt = attempt,
            Iteration = Math.Max(1, Steps[stepId].Iteration),
            Status = "queued",
            AvailableAt = availableAt,
            CreatedAt = Now,
        };
        NewTasks.Add(task);
        return task;
    }

    public static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    private static string DeterministicId(string seed)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed));
        // Version 4 and variant bits, so the text reads as a UUID.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x40);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }

    public static string ToJson(JsonNode? node) => node?.ToJsonString() ?? "null";

    public static JsonObject ErrorJson(ActivityError error) => error.ToJson();

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, StrictJson.Options);
}
