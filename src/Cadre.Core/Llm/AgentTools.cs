using System.ComponentModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Net;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// The tools Cadre gives agents by name (a persona's skills, a step's <c>skills</c>). Each call of a
/// tool with side effects carries an idempotency key made of the attempt's key and the model's call
/// ID, which a resumed attempt reuses. Tool errors go back to the model as the tool's answer.
/// </summary>
internal sealed class AgentTools(OutboundHttp outbound, TimeProvider time, IServiceScopeFactory scopes)
{
    /// <summary>The most of a response body <c>http_request</c> hands the model.</summary>
    public const int MaxBodyChars = 16 * 1024;

    public static IReadOnlyList<string> Names { get; } = ["current_time", "emit_event", "http_request", "memory_read", "memory_write", "run_workflow"];

    /// <summary>
    /// The tool called <paramref name="name"/>, bound to this attempt; null when Cadre has none of that
    /// name, or (the memory tools) when the persona remembers nothing (<paramref name="memory"/> null).
    /// </summary>
    public AIFunction? For(string name, ActivityContext context, MemoryAccess? memory) => name switch
    {
        "memory_read" when memory is not null => AIFunctionFactory.Create(
            async ([Description("Words the notes must contain; omit for the newest notes.")] string? query = null, CancellationToken cancellationToken = default) =>
            {
                var notes = await memory.Service.RecallAsync(memory.PersonaId, memory.RunId, string.IsNullOrWhiteSpace(query) ? null : query, cancellationToken);
                return notes.Count == 0 ? "No notes." : string.Join("\n", notes.Select(n => "- " + n));
            },
            "memory_read",
            "Reads your notes from earlier work."),
        "memory_write" when memory is not null => AIFunctionFactory.Create(
            async ([Description("One fact worth remembering next time, in a sentence.")] string content, AIFunctionArguments? arguments = null, CancellationToken cancellationToken = default) =>
            {
                if (string.IsNullOrWhiteSpace(content) || content.Length > MemoryService.MaxContentLength)
                {
                    return $"Error: a note is 1 to {MemoryService.MaxContentLength} characters.";
                }

                await memory.Service.WriteAsync(context.WorkspaceId, memory.PersonaId, memory.RunId, context.Redactor.Redact(content), "agent", $"{context.IdempotencyKey}/{CallId(arguments)}", null, cancellationToken);
                return "Noted.";
            },
            "memory_write",
            "Writes a note you will be able to read in later work."),
        "current_time" => AIFunctionFactory.Create(
            () => time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            "current_time",
            "The current date and time, UTC, in ISO 8601."),
        "http_request" => AIFunctionFactory.Create(
            ([Description("An absolute http or https URL.")] string url,
             [Description("GET (default), POST, PUT, PATCH or DELETE.")] string? method = null,
             [Description("A request body, sent as JSON when it parses as JSON, else as text.")] string? body = null,
             AIFunctionArguments? arguments = null,
             CancellationToken cancellationToken = default) => RequestAsync(context, CallId(arguments), url, method, body, cancellationToken),
            "http_request",
            "Makes an HTTP request and answers its status and body (the first 16 KB). Private and internal addresses are refused."),
        "run_workflow" => AIFunctionFactory.Create(
            ([Description("The workflow's name or ID.")] string workflow,
             [Description("The run's input, which its steps read as context.body.")] JsonElement? input = null,
             [Description("Wait for the run to end and answer its output (default); false answers its ID at once.")] bool wait = true,
             AIFunctionArguments? arguments = null,
             CancellationToken cancellationToken = default) => RunWorkflowAsync(context, workflow, input, wait, arguments, cancellationToken),
            "run_workflow",
            "Runs one of the workspace's workflows as a child run and answers its status and output (or error)."),
        "emit_event" => AIFunctionFactory.Create(
            ([Description("One of the workspace's event types.")] string type,
             [Description("The event's payload, following the type's schema.")] JsonElement? payload = null,
             AIFunctionArguments? arguments = null,
             CancellationToken cancellationToken = default) => EmitEventAsync(context, type, payload, CallId(arguments), cancellationToken),
            "emit_event",
            "Emits an event into the workspace, which may start or wake workflows."),
        _ => null,
    };

    /// <summary>
    /// Starts the child once per call (keyed by the attempt and the call ID). When it is still running
    /// and the model wants its result, the call tells the agent to suspend until the child ends; the
    /// agent then makes the call again and gets the finished run.
    /// </summary>
    private async Task<string> RunWorkflowAsync(
        ActivityContext context, string workflow, JsonElement? input, bool wait, AIFunctionArguments? arguments, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var (child, failure) = await RunWorkflowActivity.StartChildAsync(
            context, scope.ServiceProvider, workflow, input is { } value ? context.Redactor.Redact(JsonNode.Parse(value.GetRawText())) : null, $"{context.IdempotencyKey}/{CallId(arguments)}", cancellationToken);
        if (child is null)
        {
            return $"Error: {((FailedOutcome)failure!).Error.Message}";
        }

        var result = new JsonObject { ["runId"] = child.Id, ["status"] = child.Status };
        switch (child.Status)
        {
            case "succeeded":
                result["output"] = child.Output?.DeepClone();
                break;
            case "failed" or "compensated":
                result["error"] = child.Error?.DeepClone();
                break;
            default:
                if (wait && arguments?.Context?.TryGetValue(SignalsKey, out var signals) == true && signals is ToolSignals toolSignals)
                {
                    toolSignals.WaitForChildRunId = child.Id;
                }

                break;
        }

        return result.ToJsonString();
    }

    /// <summary>Emits once per call (keyed by the attempt and the call ID), through a commit on the agent's run.</summary>
    private async Task<string> EmitEventAsync(ActivityContext context, string type, JsonElement? payload, string callId, CancellationToken cancellationToken)
    {
        var body = payload is { } value ? context.Redactor.Redact(JsonNode.Parse(value.GetRawText())) ?? new JsonObject() : new JsonObject();
        await using var scope = scopes.CreateAsyncScope();
        if (await EmitEventActivity.RefusalAsync(scope.ServiceProvider, context.WorkspaceId, type, body, cancellationToken) is { } refused)
        {
            return $"Error: {refused.Error.Message}";
        }

        var emitted = await scope.ServiceProvider.GetRequiredService<RunEngine>().EmitNowAsync(
            context.RunId, context.StepId, new EmitEvent(type, $"agent:{context.RunId}", body, $"{context.IdempotencyKey}/{callId}"), cancellationToken);
        return emitted.ToJsonString();
    }

    /// <summary>The key under which the agent passes a <see cref="ToolSignals"/> to a tool.</summary>
    public const string SignalsKey = "signals";

    /// <summary>Where tools send their requests (the outbound guard), for the MCP connections of an attempt.</summary>
    public OutboundHttp Outbound => outbound;

    /// <summary>A registry skill as a tool for this attempt.</summary>
    public AIFunction ForSkill(Skill skill, string? authValue, ActivityContext context) => new HttpSkillFunction(skill, authValue, outbound, context, scopes);

    /// <summary>The key under which the agent passes the model's call ID to a tool.</summary>
    public const string CallIdKey = "callId";

    /// <summary>The model's ID for this call (the same when a resumed attempt replays it), for the call's idempotency key.</summary>
    internal static string CallId(AIFunctionArguments? arguments) =>
        arguments?.Context?.TryGetValue(CallIdKey, out var id) == true && id is string callId ? callId : Guid.NewGuid().ToString("N");

    private async Task<string> RequestAsync(ActivityContext context, string callId, string url, string? method, string? body, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return "Error: the url must be an absolute http or https URL.";
        }

        var verb = (method ?? "GET").ToUpperInvariant();
        if (verb is not ("GET" or "POST" or "PUT" or "PATCH" or "DELETE"))
        {
            return "Error: the method must be GET, POST, PUT, PATCH or DELETE.";
        }

        using var request = new HttpRequestMessage(new HttpMethod(verb), uri);
        // The model's call ID is the same when a resumed attempt replays the call, so the key is too.
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"{context.IdempotencyKey}/{callId}");
        if (body is not null)
        {
            var isJson = IsJson(body);
            request.Content = new StringContent(body, Encoding.UTF8, isJson ? "application/json" : "text/plain");
        }

        try
        {
            using var response = await outbound.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return new JsonObject
            {
                ["status"] = (int)response.StatusCode,
                ["body"] = text.Length > MaxBodyChars ? text[..MaxBodyChars] : text,
                ["truncated"] = text.Length > MaxBodyChars,
            }.ToJsonString();
        }
        catch (HttpRequestException ex)
        {
            return $"Error: the request failed: {(ex.InnerException as OutboundRefusedException)?.Message ?? ex.Message}";
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "Error: the request timed out.";
        }
    }

    private static bool IsJson(string text)
    {
        try
        {
            _ = JsonNode.Parse(text);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}

/// <summary>What a tool call asks of the agent beyond its answer: to wait for a child run it started.</summary>
internal sealed class ToolSignals
{
    public string? WaitForChildRunId { get; set; }
}

/// <summary>Where an agent's memory tools read and write: the persona's notes, or one run's (session mode).</summary>
internal sealed record MemoryAccess(MemoryService Service, string PersonaId, string? RunId);
