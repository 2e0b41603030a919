using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Net;
using Cadre.Workflows;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Runs;

/// <summary>transform: its output is its input with every template evaluated (the engine renders inputs before calling).</summary>
internal sealed class TransformActivity : IActivity
{
    public string Name => "transform";

    public bool IsPure => true;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken) =>
        Task.FromResult(ActivityOutcome.Success(context.Input?.DeepClone()));
}

/// <summary>
/// respond: what a synchronous webhook answers its caller (<c>{status, headers, body}</c>, status 200 by
/// default). Only its output matters: the intake waiting on the run reads it as soon as it is committed.
/// </summary>
internal sealed class RespondActivity : IActivity
{
    public string Name => "respond";

    public bool IsPure => true;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as JsonObject ?? [];
        return Task.FromResult(ActivityOutcome.Success(new JsonObject
        {
            ["status"] = input["status"]?.DeepClone() ?? 200,
            ["headers"] = input["headers"]?.DeepClone() ?? new JsonObject(),
            ["body"] = input["body"]?.DeepClone(),
        }));
    }
}

/// <summary>condition: <c>{result}</c>, whether the <c>test</c> filter holds; dependents branch on it with <c>when</c>.</summary>
internal sealed class ConditionActivity : IActivity
{
    public string Name => "condition";

    public bool IsPure => true;

    // The filter is taken from the step's own (unrendered) input: its operands may be templates evaluated by the filter.
    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken) =>
        Task.FromResult(ActivityOutcome.Success(PureActivities.Condition(context.Step.Input!.AsObject(), context.Scope)));
}

/// <summary>switch: <c>{case, value}</c> of the first case whose filter holds, else the default.</summary>
internal sealed class SwitchActivity : IActivity
{
    public string Name => "switch";

    public bool IsPure => true;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken) =>
        Task.FromResult(ActivityOutcome.Success(PureActivities.Switch(context.Step.Input!.AsObject(), context.Scope)));
}

/// <summary>sleep: waits for <c>duration</c> (or <c>until</c>, an ISO-8601 time) on a durable timer.</summary>
internal sealed class SleepActivity(TimeProvider time) : IActivity
{
    public string Name => "sleep";

    public bool IsPure => false;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        DateTimeOffset wake;
        if (context.Input?["until"] is JsonValue until && until.TryGetValue<string>(out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            wake = at;
        }
        else if (context.Input?["duration"] is JsonValue duration && duration.TryGetValue<string>(out var span) && Durations.TryParse(span, out var length))
        {
            wake = now + length;
        }
        else
        {
            return Task.FromResult(ActivityOutcome.Failure("invalid_input", "sleep needs a duration (such as 30s) or an until time.", retryable: false));
        }

        var output = new JsonObject { ["sleptUntil"] = wake.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) };
        return Task.FromResult<ActivityOutcome>(wake <= now ? new Succeeded(output) : new SleepUntil(wake, output));
    }
}

/// <summary>approval: puts the rendered input to the step's approvers; the engine records the question and the step waits.</summary>
internal sealed class ApprovalActivity : IActivity
{
    public string Name => "approval";

    public bool IsPure => false;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken) =>
        Task.FromResult<ActivityOutcome>(new WaitForApproval(context.Input?.DeepClone()));
}

/// <summary>
/// run_workflow: starts another workflow of the workspace as a child run, with the attempt's
/// idempotency key as the start's key, so a retried or re-run attempt finds the child it already
/// started instead of starting a second. With <c>wait</c> (the default) the step waits for the
/// child and takes its output; a failed child fails the step.
/// </summary>
internal sealed class RunWorkflowActivity(IServiceScopeFactory scopes) : IActivity
{
    /// <summary>How deep children may nest (a workflow that starts itself stops here).</summary>
    public const int MaxDepth = 10;

    public string Name => "run_workflow";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as JsonObject ?? [];
        if (input["workflow"] is not JsonValue name || !name.TryGetValue<string>(out var workflow) || workflow.Length == 0)
        {
            return ActivityOutcome.Failure("invalid_input", "workflow must name a workflow (ID or name).", retryable: false);
        }

        var wait = input["wait"] is not JsonValue flag || !flag.TryGetValue<bool>(out var waits) || waits;
        await using var scope = scopes.CreateAsyncScope();
        // A child's input is stored with the child: a value read from this run's secrets goes redacted (the child reads the secret itself).
        var (child, failure) = await StartChildAsync(context, scope.ServiceProvider, workflow, context.Redactor.Redact(input["input"])?.DeepClone(), context.IdempotencyKey, cancellationToken);
        if (child is null)
        {
            return failure!;
        }

        if (!wait)
        {
            return ActivityOutcome.Success(new JsonObject { ["runId"] = child.Id, ["status"] = child.Status });
        }

        return ChildOutcome(child.Id, child.Status, child.Output, child.Error) ?? new WaitForChild(child.Id);
    }

    /// <summary>
    /// Starts a child run of <paramref name="workflow"/> for the step (once per <paramref name="idempotencyKey"/>:
    /// starting it again answers the same run). Its end wakes the step's attempt.
    /// </summary>
    internal static async Task<(RunResponse? Child, ActivityOutcome? Failure)> StartChildAsync(
        ActivityContext context, IServiceProvider services, string workflow, JsonNode? input, string idempotencyKey, CancellationToken cancellationToken)
    {
        var depth = context.Scope.Root("context")?["trigger"]?["depth"] is JsonValue d && d.TryGetValue<int>(out var parentDepth) ? parentDepth + 1 : 1;
        if (depth > MaxDepth)
        {
            return (null, ActivityOutcome.Failure("too_deep", $"Child runs nest at most {MaxDepth} deep.", retryable: false));
        }

        // The parent run starts it: its ID stands as who started the child.
        var caller = new Caller(CallerKind.InstanceKey, context.RunId, null, null, context.WorkspaceId, null, null, null);
        var details = new JsonObject
        {
            ["parentRunId"] = context.RunId,
            ["parentStepId"] = context.StepId,
            ["parentAttempt"] = context.Attempt,
            ["parentIteration"] = context.Iteration,
            ["depth"] = depth,
        };
        var started = await services.GetRequiredService<RunService>().StartAsync(
            context.WorkspaceId, workflow, new StartRunRequest { Input = input }, caller, idempotencyKey, "child", cancellationToken, details);
        if (started.Error is { } error)
        {
            var detail = error.Errors is { Count: > 0 } fields ? string.Join(" ", fields.Select(f => $"{f.Key}: {string.Join(" ", f.Value)}")) : error.Detail;
            return (null, ActivityOutcome.Failure(error.Kind == ServiceErrorKind.NotFound ? "workflow_not_found" : "child_refused", detail, retryable: error.Kind == ServiceErrorKind.Conflict));
        }

        return (started.Value!.Run, null);
    }

    /// <summary>How a waiting step ends once its child has: the child's output, or a failure naming it; null while it runs.</summary>
    internal static ActivityOutcome? ChildOutcome(string childRunId, string status, JsonNode? output, JsonObject? error) => status switch
    {
        "succeeded" => ActivityOutcome.Success(new JsonObject { ["runId"] = childRunId, ["status"] = status, ["output"] = output?.DeepClone() }),
        "failed" or "compensated" => ActivityOutcome.Failure(
            "child_failed", $"Child run {childRunId} ended {status}.", retryable: false,
            new JsonObject { ["runId"] = childRunId, ["status"] = status, ["error"] = error?.DeepClone() }),
        _ => null,
    };
}

/// <summary>
/// emit_event: emits an event of one of the workspace's own event types, its payload checked
/// against the type's schema. Cadre's built-in types (run., approval., …) are Cadre's alone to emit.
/// </summary>
internal sealed class EmitEventActivity(IServiceScopeFactory scopes) : IActivity
{
    public string Name => "emit_event";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as JsonObject ?? [];
        if (input["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type) || type.Length == 0)
        {
            return ActivityOutcome.Failure("invalid_input", "type must name an event type.", retryable: false);
        }

        var payload = input["payload"]?.DeepClone() ?? new JsonObject();
        await using var scope = scopes.CreateAsyncScope();
        return (ActivityOutcome?)await RefusalAsync(scope.ServiceProvider, context.WorkspaceId, type, payload, cancellationToken)
            ?? new EmitEvent(type, (string?)input["source"] ?? $"workflow:{context.RunId}", payload);
    }

    /// <summary>Why the workspace may not emit this event (a reserved or unknown type, a payload off its schema), or null.</summary>
    internal static async Task<FailedOutcome?> RefusalAsync(IServiceProvider services, string workspaceId, string type, JsonNode payload, CancellationToken cancellationToken)
    {
        if (EventTypeService.ReservedPrefixes.Any(prefix => type.StartsWith(prefix, StringComparison.Ordinal)))
        {
            return Refuse("reserved_event_type", $"'{type}' is one of Cadre's own event types; steps emit the workspace's own types.");
        }

        var eventType = await services.GetRequiredService<EventTypeService>().GetAsync(workspaceId, type, cancellationToken);
        if (eventType is null)
        {
            return Refuse("unknown_event_type", $"The workspace has no event type '{type}'.");
        }

        var schema = await NJsonSchema.JsonSchema.FromJsonAsync(eventType.Schema.ToJsonString(), cancellationToken);
        return schema.Validate(payload.ToJsonString()) is { Count: > 0 } problems
            ? Refuse("invalid_payload", $"The payload does not follow the schema of '{type}': {string.Join("; ", problems.Select(p => $"{p.Path}: {p.Kind}"))}")
            : null;

        static FailedOutcome Refuse(string kind, string message) => new(new ActivityError(kind, message, Retryable: false));
    }
}

/// <summary>wait_for_event: waits for an event of a type whose payload passes the filters, or the timeout (then <c>{timedOut: true}</c>).</summary>
internal sealed class WaitForEventActivity(TimeProvider time) : IActivity
{
    public string Name => "wait_for_event";

    public bool IsPure => false;

    public Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as JsonObject ?? [];
        if (input["eventType"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type) || type.Length == 0)
        {
            return Task.FromResult(ActivityOutcome.Failure("invalid_input", "eventType must name an event type.", retryable: false));
        }

        DateTimeOffset? deadline = null;
        if (input["timeout"] is JsonValue timeout)
        {
            if (!timeout.TryGetValue<string>(out var text) || !Durations.TryParse(text, out var span))
            {
                return Task.FromResult(ActivityOutcome.Failure("invalid_input", "timeout must be a duration such as 10m.", retryable: false));
            }

            deadline = time.GetUtcNow() + span;
        }

        var filters = input["filters"] as JsonObject;
        try
        {
            // Checked now, so a filter that cannot work fails the step rather than every emission.
            _ = Filter.Parse(filters, new ExpressionOptions { Roots = EventRoots });
        }
        catch (FilterException ex)
        {
            return Task.FromResult(ActivityOutcome.Failure("invalid_input", $"filters: {ex.Message}", retryable: false));
        }

        return Task.FromResult<ActivityOutcome>(new WaitForEvent(type, filters?.DeepClone().AsObject(), deadline));
    }

    /// <summary>What a wait's filter reads: the event (<c>event.type</c>, <c>event.payload</c>, <c>event.source</c>).</summary>
    public static IReadOnlySet<string> EventRoots { get; } = new HashSet<string>(StringComparer.Ordinal) { "event" };
}

/// <summary>
/// http: a request to an outside service, carrying the attempt's <c>Idempotency-Key</c>. Internal
/// addresses are refused on every hop (<see cref="OutboundHttp"/>). 408, 429 and 5xx answers are
/// retryable failures; other non-success statuses fail at once unless listed in <c>successStatuses</c>.
/// </summary>
internal sealed class HttpActivity(OutboundHttp http) : IActivity
{
    public const int MaxResponseBytes = 4 * 1024 * 1024;

    public string Name => "http";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        var input = context.Input as JsonObject ?? [];
        if (input["url"] is not JsonValue urlValue || !urlValue.TryGetValue<string>(out var url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return ActivityOutcome.Failure("invalid_input", "url must be an absolute http(s) URL.", retryable: false);
        }

        if (input["query"] is JsonObject query && query.Count > 0)
        {
            var builder = new UriBuilder(uri);
            var extra = string.Join('&', query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value?.ToString() ?? "")}"));
            builder.Query = string.IsNullOrEmpty(builder.Query) ? extra : builder.Query.TrimStart('?') + "&" + extra;
            uri = builder.Uri;
        }

        var method = input["method"] is JsonValue m && m.TryGetValue<string>(out var name) ? name.ToUpperInvariant() : "GET";
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        foreach (var (header, value) in input["headers"] as JsonObject ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(header, value?.ToString()))
            {
                return ActivityOutcome.Failure("invalid_input", $"'{header}' is not a request header Cadre can send.", retryable: false);
            }
        }

        if (!request.Headers.Contains("Idempotency-Key"))
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", context.IdempotencyKey);
        }

        if (input["body"] is { } body)
        {
            request.Content = body is JsonValue text && text.TryGetValue<string>(out var raw)
                ? new StringContent(raw, Encoding.UTF8, "text/plain")
                : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var timeout = input["timeout"] is JsonValue t && t.TryGetValue<string>(out var span) && Durations.TryParse(span, out var parsed) ? parsed : (TimeSpan?)null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }

        try
        {
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var content = await ReadAsync(response.Content, deadline.Token);
            var status = (int)response.StatusCode;
            var result = new JsonObject
            {
                ["status"] = status,
                ["headers"] = new JsonObject(response.Headers.Concat(response.Content.Headers)
                    .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), (JsonNode?)JsonValue.Create(string.Join(", ", h.Value))))),
                ["body"] = content is null ? null : Body(response.Content.Headers.ContentType, content, input["responseType"]),
            };
            var accepted = input["successStatuses"] is JsonArray codes ? codes.Any(c => c is JsonValue v && v.TryGetValue<int>(out var code) && code == status) : response.IsSuccessStatusCode;
            if (accepted)
            {
                return ActivityOutcome.Success(result);
            }

            var retryable = status is 408 or 429 or >= 500;
            return ActivityOutcome.Failure($"http_{status}", $"{method} {uri.GetLeftPart(UriPartial.Path)} answered {status}.", retryable, result);
        }
        catch (HttpRequestException ex) when (ex.InnerException is OutboundRefusedException refused)
        {
            return ActivityOutcome.Failure("outbound_refused", refused.Message, retryable: false);
        }
        catch (HttpRequestException ex)
        {
            return ActivityOutcome.Failure("http_error", $"{method} {uri.GetLeftPart(UriPartial.Path)} failed: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ActivityOutcome.Failure("timeout", $"{method} {uri.GetLeftPart(UriPartial.Path)} took longer than {timeout?.TotalSeconds:0.#} s.");
        }
        catch (ResponseTooLargeException)
        {
            return ActivityOutcome.Failure("response_too_large", $"The response is larger than {MaxResponseBytes / (1024 * 1024)} MiB.", retryable: false);
        }
    }

    private static JsonNode? Body(MediaTypeHeaderValue? type, string content, JsonNode? responseType)
    {
        var wantsText = responseType is JsonValue v && v.TryGetValue<string>(out var kind) && kind == "text";
        var isJson = type?.MediaType is { } media && (media == "application/json" || media.EndsWith("+json", StringComparison.Ordinal));
        if (!wantsText && (isJson || responseType is not null))
        {
            try
            {
                return JsonNode.Parse(content, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException)
            {
                return JsonValue.Create(content);
            }
        }

        return JsonValue.Create(content);
    }

    private static async Task<string?> ReadAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes)
            {
                throw new ResponseTooLargeException();
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.Length == 0 ? null : Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private sealed class ResponseTooLargeException : Exception;
}
