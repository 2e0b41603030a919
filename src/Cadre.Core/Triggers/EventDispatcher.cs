using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Runs;
using Cadre.Storage;
using Cadre.Workflows;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cadre.Triggers;

/// <summary>What an event started in one workflow: a run, or why not.</summary>
/// <param name="Error">Why the workflow took no run (its concurrency policy refused it, its input did not fit…).</param>
/// <param name="PersonaId">For a workflow that routes events to personas: the persona this run acts as.</param>
public sealed record EventRunResponse(string WorkflowId, string Workflow, string? RunId, string? DisplayId, string? Status, int Replay, string? Error, string? PersonaId = null);

/// <summary>
/// Starts, for an event, one run in each active workflow whose trigger names its type and whose
/// filters pass. Each start carries the key <c>event:{id}</c> (a replay: <c>event:{id}:replay:{n}</c>),
/// and runs are unique per workflow and key, so dispatching an event again, on any node, at any
/// time, starts nothing twice. That is what makes the event row its own outbox: it is dispatched
/// right after the commit that records it (inline for the API, on a wake-up for events runs emit),
/// and this service's sweep dispatches whatever a crash left undone.
/// </summary>
internal sealed partial class EventDispatcher(
    IServiceScopeFactory scopes, CompiledWorkflows compiledWorkflows, IdGenerator ids, StorageProvider storage, WebhookSender webhookSender, TimeProvider time,
    ILogger<EventDispatcher> logger)
    : BackgroundService
{
    /// <summary>How many event-started runs may follow one another (a workflow reacting to its own runs ends there).</summary>
    public const int MaxDepth = 8;

    /// <summary>How often the sweep looks for events nobody dispatched.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(2);

    /// <summary>An event the API received is dispatched by its own request; the sweep leaves it that long first.</summary>
    public static readonly TimeSpan InlineGrace = TimeSpan.FromSeconds(10);

    private const int SweepBatch = 100;

    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Events were recorded that nobody dispatches inline (a run emitted them): sweep now.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>The chain depth of a run's context: how many event-started runs led to it.</summary>
    public static int ChainOf(JsonObject context) =>
        context["trigger"]?["eventDepth"] is JsonValue value && value.TryGetValue<int>(out var depth) ? depth : 0;

    /// <summary>Starts the event's runs (each once); <paramref name="replay"/> numbers a replay, which starts a fresh set.</summary>
    public async Task<IReadOnlyList<EventRunResponse>> DispatchAsync(string eventId, int? replay, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var record = await db.WorkspaceEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Id == eventId, cancellationToken);
        if (record is null)
        {
            return [];
        }

        var results = new List<EventRunResponse>();
        if (record.Depth >= MaxDepth)
        {
            LogTooDeep(record.Id, record.Type, MaxDepth);
        }
        else
        {
            var runs = scope.ServiceProvider.GetRequiredService<RunService>();
            var eventJson = RunEngine.EventJson(record);
            List<(string Id, string Name)>? scoped = null;
            foreach (var workflow in await ListenersAsync(db, record.WorkspaceId, record.Type, cancellationToken))
            {
                var spec = compiledWorkflows.Get(workflow.Id, workflow.Version, () => WorkflowJson.Deserialize(workflow.Definition)).Spec;
                if (spec.Trigger?.RouteToPersonas == true)
                {
                    // One run per persona whose scope takes the event; the run's steps (a triage, an agent) act as that persona.
                    scoped ??= await ScopedPersonasAsync(db, record, cancellationToken);
                    foreach (var persona in scoped)
                    {
                        if (await StartAsync(runs, record, eventJson, workflow, replay ?? 0, cancellationToken, persona) is { } routed)
                        {
                            results.Add(routed);
                        }
                    }

                    continue;
                }

                if (await StartAsync(runs, record, eventJson, workflow, replay ?? 0, cancellationToken) is { } result)
                {
                    results.Add(result);
                }
            }
        }

        if (replay is null && record.DispatchedAt is null)
        {
            var now = time.GetUtcNowTruncated();
            await AddDeliveriesAsync(db, record, now, cancellationToken);
            await db.WorkspaceEvents.Where(e => e.Id == eventId && e.DispatchedAt == null)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.DispatchedAt, now), cancellationToken);
        }

        return results;
    }

    /// <summary>The event's deliveries to subscriptions, once each: a dispatch racing this one may have added them first.</summary>
    private async Task AddDeliveriesAsync(CadreDbContext db, WorkspaceEvent record, DateTime now, CancellationToken cancellationToken)
    {
        try
        {
            if (await WebhookOutbox.AddEventDeliveriesAsync(db, ids, record, now, cancellationToken) > 0)
            {
                await db.SaveChangesAsync(cancellationToken);
                webhookSender.Wake();
            }
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Active event workflows of the workspace whose trigger names the type (or a pattern it fits), by name.</summary>
    internal static async Task<List<Workflow>> ListenersAsync(CadreDbContext db, string workspaceId, string type, CancellationToken cancellationToken) =>
        [.. (await db.Workflows.AsNoTracking()
                .Where(w => w.WorkspaceId == workspaceId && w.DeletedAt == null && w.IsActive && w.Type == "event"
                    && (w.TriggerEventType == type || EF.Functions.Like(w.TriggerEventType!, "%*%")))
                .ToListAsync(cancellationToken))
            .Where(w => EventPatterns.Matches(w.TriggerEventType!, type))
            .OrderBy(w => w.Name, StringComparer.Ordinal)];

    /// <summary>The workspace's personas whose scope takes the event: its type among their event types (patterns allowed) and, when they name sources, its source among them.</summary>
    internal static async Task<List<(string Id, string Name)>> ScopedPersonasAsync(CadreDbContext db, WorkspaceEvent record, CancellationToken cancellationToken)
    {
        var workspaceId = record.WorkspaceId;
        var candidates = await db.Personas.AsNoTracking()
            .Where(p => p.WorkspaceId == workspaceId && p.DeletedAt == null && p.Definition.Contains("\"scope\""))
            .Select(p => new { p.Id, p.Name, p.Definition }).ToListAsync(cancellationToken);
        return [.. candidates
            .Select(p => (p.Id, p.Name, Scope: Personas.PersonaJson.Deserialize(p.Definition).Scope))
            .Where(p => p.Scope?.EventTypes is { Count: > 0 } types && types.Any(t => t is not null && EventPatterns.Matches(t, record.Type))
                && (p.Scope.Sources is not { Count: > 0 } sources || (record.Source is { } source && sources.Contains(source, StringComparer.Ordinal))))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (p.Id, p.Name))];
    }

    private async Task<EventRunResponse?> StartAsync(
        RunService runs, WorkspaceEvent record, JsonObject eventJson, Workflow workflow, int replay, CancellationToken cancellationToken,
        (string Id, string Name)? persona = null)
    {
        var compiled = compiledWorkflows.Get(workflow.Id, workflow.Version, () => WorkflowJson.Deserialize(workflow.Definition));
        var details = new JsonObject { ["eventId"] = record.Id, ["eventType"] = record.Type, ["eventDepth"] = record.Depth + 1 };
        if (replay > 0)
        {
            details["replay"] = replay;
        }

        var extras = new JsonObject { ["event"] = eventJson.DeepClone() };
        if (persona is { } routed)
        {
            details["personaId"] = routed.Id;
            extras["persona"] = new JsonObject { ["id"] = routed.Id, ["name"] = routed.Name };
        }
        if (compiled.Spec.Trigger?.Filters is { } filters && !Passes(filters, record, eventJson, details, extras, workflow, compiled.Spec))
        {
            return null;
        }

        // The event stands as who started the run, as a parent run does for its children.
        var caller = new Caller(CallerKind.InstanceKey, record.Id, null, null, record.WorkspaceId, null, null, null);
        var key = (replay == 0 ? $"event:{record.Id}" : $"event:{record.Id}:replay:{replay}") + (persona is { } to ? $":persona:{to.Id}" : "");
        var request = new StartRunRequest { Input = RunState.Parse(record.Payload) as JsonObject ?? [] };
        var started = await runs.StartAsync(record.WorkspaceId, workflow.Id, request, caller, key, "event", cancellationToken, details, extras);
        if (started.Value is { } run)
        {
            return new EventRunResponse(workflow.Id, workflow.Name, run.Run.Id, run.Run.DisplayId, run.Run.Status, replay, null, persona?.Id);
        }

        var error = started.Error!;
        var detail = error.Errors is { Count: > 0 } fields ? string.Join(" ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")) : error.Detail;
        LogNotStarted(record.Id, workflow.Name, detail);
        return new EventRunResponse(workflow.Id, workflow.Name, null, null, null, replay, detail, persona?.Id);
    }

    /// <summary>Whether the trigger's filters pass, read over the context the run would start with.</summary>
    private bool Passes(JsonObject filters, WorkspaceEvent record, JsonObject eventJson, JsonObject details, JsonObject extras, Workflow workflow, WorkflowSpec spec)
    {
        var trigger = new JsonObject { ["type"] = "event", ["startedBy"] = record.Id };
        foreach (var (key, value) in details)
        {
            trigger[key] = value?.DeepClone();
        }

        var context = new JsonObject { ["body"] = RunState.Parse(record.Payload)?.DeepClone(), ["trigger"] = trigger };
        foreach (var (key, value) in extras)
        {
            context[key] = value?.DeepClone();
        }

        var roots = new Dictionary<string, JsonNode?>
        {
            ["context"] = context,
            ["run"] = new JsonObject(),
            ["workflow"] = RunEngine.WorkflowValues(workflow.Id, spec, workflow.Version),
        };
        try
        {
            return Filter.Parse(filters, new ExpressionOptions { Roots = WorkflowRules.EventFilterRoots })
                .Matches(new ExpressionScope(roots, new DateTimeOffset(record.CreatedAt, TimeSpan.Zero)));
        }
        catch (Exception ex) when (ex is FilterException or ExpressionEvaluationException)
        {
            // A filter that cannot read this event does not match it.
            LogFilterFailed(record.Id, workflow.Name, ex.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database may be down for a moment: the next sweep tries again.
                LogSweepFailed(ex);
            }

            try
            {
                await _wake.WaitAsync(SweepInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var inlineBefore = time.GetUtcNowTruncated() - InlineGrace;
            List<string> due;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
                due = await db.WorkspaceEvents.AsNoTracking()
                    .Where(e => e.DispatchedAt == null && (e.Origin != "api" || e.CreatedAt < inlineBefore))
                    .OrderBy(e => e.CreatedAt).Select(e => e.Id).Take(SweepBatch).ToListAsync(cancellationToken);
            }

            var failed = 0;
            foreach (var id in due)
            {
                try
                {
                    await DispatchAsync(id, replay: null, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // One event that cannot be dispatched now must not hold back the others; it stays due.
                    LogDispatchFailed(ex, id);
                    failed++;
                }
            }

            if (failed > 0)
            {
                return;
            }

            if (due.Count < SweepBatch)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({Type}) started nothing: {MaxDepth} event-started runs led to it already, which looks like workflows triggering each other in a loop")]
    private partial void LogTooDeep(string eventId, string type, int maxDepth);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} did not start workflow {Workflow}: {Reason}")]
    private partial void LogNotStarted(string eventId, string workflow, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: workflow {Workflow}'s trigger filters could not read it ({Reason}); not started")]
    private partial void LogFilterFailed(string eventId, string workflow, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} could not be dispatched; the sweep tries again shortly")]
    private partial void LogDispatchFailed(Exception exception, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event dispatch sweep failed; it tries again shortly")]
    private partial void LogSweepFailed(Exception exception);
}
