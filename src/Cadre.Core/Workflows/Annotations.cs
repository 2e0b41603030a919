using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Expressions;
using Cadre.Net;
using Cadre.Personas;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Workflows;

/// <summary>Body of <c>POST …/workflows/{workflow}/annotate</c>: the context a run would start with.</summary>
public sealed record AnnotateRequest(JsonObject? Context = null);

/// <summary>The context after the workflow's annotations, and what each one wrote where.</summary>
public sealed record AnnotateResponse(JsonObject Context, IReadOnlyList<AnnotationOutcome> Annotations);

public sealed record AnnotationOutcome(string Id, string Annotator, string WriteTo, JsonNode? Value);

/// <summary>Fetches one kind of enrichment. The lookup values are the annotation's input, rendered against the context.</summary>
internal interface IAnnotator
{
    string Name { get; }

    /// <summary>The value to write into the context; throws <see cref="AnnotationException"/> when it cannot.</summary>
    Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken);
}

/// <summary>An annotation that could not be fetched: the run fails before its first step, saying which and why.</summary>
internal sealed class AnnotationException(string message) : Exception(message);

/// <summary>
/// Runs a workflow's annotations in order before its first step: renders each input against the
/// context so far (earlier annotations included), checks the required members, fetches, and writes
/// the result at <c>writeTo</c> (default <c>annotations.&lt;id&gt;</c>). The secrets the inputs read
/// are decrypted for the renders only; what is written back (and any error) has their values redacted.
/// </summary>
internal sealed class AnnotationService(IEnumerable<IAnnotator> annotators, Secrets.SecretService secrets, TimeProvider time)
{
    private readonly Dictionary<string, IAnnotator> _annotators = annotators.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public async Task<ServiceResult<AnnotateResponse>> AnnotateAsync(
        string workspaceId, WorkflowSpec spec, JsonObject context, JsonObject workflow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var outcomes = new List<AnnotationOutcome>();
        var annotations = spec.Annotations ?? [];
        var resolved = await secrets.ResolveAsync(workspaceId, Secrets.SecretReferences.In(annotations.Select(a => (JsonNode?)a.Input)), cancellationToken);
        var redactor = resolved.Redactor;
        for (var i = 0; i < annotations.Count; i++)
        {
            var annotation = annotations[i];
            var field = $"annotations[{i}]";
            if (resolved.ProblemFor(Secrets.SecretReferences.In(annotation.Input)) is { } missing)
            {
                return ServiceError.Validation($"{field}.input", missing.Message);
            }

            var scope = new ExpressionScope(
                new Dictionary<string, JsonNode?> { ["context"] = context, ["workflow"] = workflow, ["run"] = null, ["secrets"] = resolved.Scope() },
                time.GetUtcNow());
            JsonObject input;
            try
            {
                input = JsonTemplate.Parse(annotation.Input ?? [], new ExpressionOptions { Roots = WorkflowRules.TriggerRoots }).Render(scope)!.AsObject();
            }
            catch (ExpressionEvaluationException ex)
            {
                return ServiceError.Validation($"{field}.input", redactor.Redact(ex.Message));
            }

            foreach (var required in annotation.Required ?? [])
            {
                if (input[required] is null || input[required] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length == 0)
                {
                    return ServiceError.Validation($"{field}.input.{required}", "Is required, but rendered empty against this context.");
                }
            }

            if (!_annotators.TryGetValue(annotation.Annotator!, out var annotator))
            {
                return ServiceError.Validation($"{field}.annotator", $"There is no '{annotation.Annotator}' annotator.");
            }

            JsonNode? result;
            try
            {
                result = await annotator.FetchAsync(workspaceId, input, annotation.Relations ?? [], cancellationToken);
            }
            catch (AnnotationException ex)
            {
                return ServiceError.Validation(field, redactor.Redact(ex.Message));
            }

            // An echo of a secret (a service answering with the request's headers) is not written into the context.
            result = redactor.Redact(result);
            var writeTo = annotation.WriteTo ?? $"annotations.{annotation.Id}";
            Write(context, writeTo, result?.DeepClone());
            outcomes.Add(new AnnotationOutcome(annotation.Id!, annotation.Annotator!, writeTo, result));
        }

        return new AnnotateResponse(context, outcomes);
    }

    // Creates the objects along the path as needed; a non-object in the way is replaced.
    private static void Write(JsonObject context, string path, JsonNode? value)
    {
        var segments = path.Split('.');
        var target = context;
        foreach (var segment in segments[..^1])
        {
            if (target[segment] is not JsonObject next)
            {
                next = [];
                target[segment] = next;
            }

            target = next;
        }

        target[segments[^1]] = value;
    }
}

/// <summary>Looks up an entity of the workspace by <c>id</c> or <c>name</c> in the input.</summary>
internal abstract class EntityAnnotator : IAnnotator
{
    public abstract string Name { get; }

    public abstract Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken);

    protected string Key(JsonObject input) =>
        (input["id"] ?? input["name"]) is JsonValue value && value.TryGetValue<string>(out var key) && key.Length > 0
            ? key
            : throw new AnnotationException($"The {Name} annotator needs an 'id' or 'name' in its input.");
}

/// <summary>A persona: its definition, ID and version; relation <c>workflows</c> adds the names of workflows using it.</summary>
internal sealed class PersonaAnnotator(PersonaService personas, CadreDbContext db) : EntityAnnotator
{
    public override string Name => "persona";

    public override async Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken)
    {
        var key = Key(input);
        var persona = await personas.GetAsync(workspaceId, key, cancellationToken) ?? throw new AnnotationException($"There is no persona '{key}'.");
        var node = JsonSerializer.SerializeToNode(persona, StrictJson.Options)!.AsObject();
        node.Remove("warnings");
        if (relations.Contains("workflows"))
        {
            node["workflows"] = new JsonArray([.. await db.WorkflowLabels.AsNoTracking()
                .Where(l => l.WorkspaceId == workspaceId && l.Kind == "persona" && l.Value == persona.Id)
                .Join(db.Workflows.Where(w => w.DeletedAt == null), l => l.WorkflowId, w => w.Id, (_, w) => w.Name)
                .OrderBy(n => n).Select(n => (JsonNode)JsonValue.Create(n)).ToListAsync(cancellationToken)]);
        }

        return node;
    }
}

/// <summary>A workflow: its definition, ID and version; relation <c>personas</c> adds the personas it uses.</summary>
internal sealed class WorkflowAnnotator(WorkflowService workflows, PersonaService personas) : EntityAnnotator
{
    public override string Name => "workflow";

    public override async Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken)
    {
        var key = Key(input);
        var workflow = await workflows.GetAsync(workspaceId, key, cancellationToken) ?? throw new AnnotationException($"There is no workflow '{key}'.");
        var node = JsonSerializer.SerializeToNode(workflow, StrictJson.Options)!.AsObject();
        if (relations.Contains("personas"))
        {
            var used = new JsonArray();
            foreach (var reference in WorkflowService.PersonaReferences(workflow).Select(r => r.Reference).Distinct(StringComparer.Ordinal))
            {
                if (await personas.GetAsync(workspaceId, reference, cancellationToken) is { } persona)
                {
                    used.Add(new JsonObject { ["id"] = persona.Id, ["name"] = persona.Name, ["version"] = persona.Version });
                }
            }

            node["personas"] = used;
        }

        return node;
    }
}

/// <summary>A run of the workspace, as <c>GET …/runs/{run}</c> answers it: status, input, context, output, error, steps.</summary>
internal sealed class RunAnnotator(Runs.RunEngine engine) : EntityAnnotator
{
    public override string Name => "run";

    public override async Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken)
    {
        var key = Key(input);
        var run = await engine.DescribeAsync(key, workspaceId, cancellationToken);
        return run is null
            ? throw new AnnotationException($"There is no run '{key}'.")
            : JsonSerializer.SerializeToNode(run, StrictJson.Options);
    }
}

/// <summary>An event emitted into the workspace: its type, source, payload and time.</summary>
internal sealed class EventAnnotator(CadreDbContext db) : EntityAnnotator
{
    public override string Name => "event";

    public override async Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken)
    {
        var key = Key(input);
        var found = await db.WorkspaceEvents.AsNoTracking().FirstOrDefaultAsync(e => e.Id == key && e.WorkspaceId == workspaceId, cancellationToken)
            ?? throw new AnnotationException($"There is no event '{key}'.");
        return new JsonObject
        {
            ["id"] = found.Id,
            ["type"] = found.Type,
            ["source"] = found.Source,
            ["payload"] = JsonNode.Parse(found.Payload),
            ["emittedByRun"] = found.EmittedByRun,
            ["createdAt"] = found.CreatedAt,
        };
    }
}

/// <summary>
/// An HTTP request (GET by default): input <c>url</c>, <c>method</c>, <c>headers</c>, <c>body</c>,
/// <c>timeout</c>. Answers <c>{status, headers, body}</c>, the body parsed when it is JSON. Internal
/// addresses are refused (<see cref="OutboundHttp"/>); a non-2xx status is an error.
/// </summary>
internal sealed class HttpAnnotator(OutboundHttp http) : IAnnotator
{
    public const int MaxResponseBytes = 1024 * 1024;

    public string Name => "http";

    public async Task<JsonNode?> FetchAsync(string workspaceId, JsonObject input, IReadOnlyList<string> relations, CancellationToken cancellationToken)
    {
        if (input["url"] is not JsonValue urlValue || !urlValue.TryGetValue<string>(out var url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new AnnotationException("The http annotator needs an http(s) 'url' in its input.");
        }

        var method = input["method"] is JsonValue m && m.TryGetValue<string>(out var name) ? name.ToUpperInvariant() : "GET";
        if (method is not ("GET" or "POST"))
        {
            throw new AnnotationException("An http annotation reads data: its method is GET or POST.");
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        foreach (var (header, value) in input["headers"] as JsonObject ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(header, value?.ToString()))
            {
                throw new AnnotationException($"'{header}' is not a request header Cadre can send.");
            }
        }

        if (input["body"] is { } body)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var timeout = input["timeout"] is JsonValue t && t.TryGetValue<string>(out var text) && Durations.TryParse(text, out var parsed) ? parsed : TimeSpan.FromSeconds(10);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var content = await ReadAsync(response.Content, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new AnnotationException($"{method} {uri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode}.");
            }

            return new JsonObject
            {
                ["status"] = (int)response.StatusCode,
                ["headers"] = new JsonObject(response.Headers.Concat(response.Content.Headers)
                    .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), (JsonNode?)JsonValue.Create(string.Join(", ", h.Value))))),
                ["body"] = IsJson(response.Content.Headers.ContentType) ? ParseOrText(content) : JsonValue.Create(content),
            };
        }
        catch (HttpRequestException ex) when (ex.InnerException is OutboundRefusedException refused)
        {
            throw new AnnotationException(refused.Message);
        }
        catch (HttpRequestException ex)
        {
            throw new AnnotationException($"{method} {uri.GetLeftPart(UriPartial.Path)} failed: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AnnotationException($"{method} {uri.GetLeftPart(UriPartial.Path)} took longer than {timeout.TotalSeconds:0.#} s.");
        }
    }

    private static async Task<string> ReadAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return total > MaxResponseBytes
            ? throw new AnnotationException($"The response is larger than {MaxResponseBytes / 1024} KiB.")
            : Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static bool IsJson(MediaTypeHeaderValue? type) =>
        type?.MediaType is { } media && (media == "application/json" || media.EndsWith("+json", StringComparison.Ordinal));

    private static JsonNode? ParseOrText(string content)
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
}
