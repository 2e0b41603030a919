using System.Text.Json.Nodes;
using Cadre.Common;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Cadre.Workflows;

/// <summary>One version of a built-in activity: what it does, what input it takes (a JSON Schema) and what it answers.</summary>
public sealed class ActivityVersion
{
    private readonly JsonSchema _schema;

    internal ActivityVersion(int version, string inputSchema, string output)
    {
        Version = version;
        InputSchema = JsonNode.Parse(inputSchema)!.AsObject();
        // Code-defined and local: nothing to resolve, so reading it does no I/O.
        _schema = JsonSchema.FromJsonAsync(inputSchema).GetAwaiter().GetResult();
        Output = output;
    }

    public int Version { get; }

    public JsonObject InputSchema { get; }

    /// <summary>What the step's <c>output</c> holds, for people.</summary>
    public string Output { get; }

    /// <summary>
    /// Checks a step's input against the schema. A string holding a template may become any type
    /// when it renders, so an error at such a string is not an error now; it is checked at run time.
    /// </summary>
    public void Validate(JsonNode? input, string field, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var templated = new HashSet<string>(StringComparer.Ordinal);
        CollectTemplates(input, "", templated);
        foreach (var error in Leaves(_schema.Validate(input?.ToJsonString() ?? "null")))
        {
            var path = error.Path is { Length: > 2 } p && p.StartsWith("#/", StringComparison.Ordinal) ? p[2..] : "";
            if (templated.Contains(path))
            {
                continue;
            }

            errors.Add(path.Length == 0 ? field : $"{field}.{path}", Describe(error));
        }
    }

    private static IEnumerable<ValidationError> Leaves(IEnumerable<ValidationError> errors)
    {
        foreach (var error in errors)
        {
            if (error is ChildSchemaValidationError child && child.Errors.Count > 0)
            {
                foreach (var leaf in Leaves(child.Errors.SelectMany(e => e.Value)))
                {
                    yield return leaf;
                }
            }
            else
            {
                yield return error;
            }
        }
    }

    private static void CollectTemplates(JsonNode? node, string path, HashSet<string> templated)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    CollectTemplates(value, path.Length == 0 ? key : $"{path}.{key}", templated);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    CollectTemplates(array[i], $"{path}[{i}]", templated);
                }

                break;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String && value.GetValue<string>().Contains("{{", StringComparison.Ordinal):
                templated.Add(path);
                break;
        }
    }

    private static string Describe(ValidationError error) => error.Kind switch
    {
        ValidationErrorKind.PropertyRequired => "Is required.",
        ValidationErrorKind.NoAdditionalPropertiesAllowed => $"'{error.Property}' is not an input of this activity.",
        ValidationErrorKind.StringExpected => "Must be a string (or a template).",
        ValidationErrorKind.IntegerExpected => "Must be a whole number.",
        ValidationErrorKind.NumberExpected => "Must be a number.",
        ValidationErrorKind.BooleanExpected => "Must be true or false.",
        ValidationErrorKind.ObjectExpected => "Must be an object.",
        ValidationErrorKind.ArrayExpected => "Must be an array.",
        ValidationErrorKind.NotInEnumeration => "Is not one of the allowed values.",
        ValidationErrorKind.NumberTooSmall => "Is too small.",
        ValidationErrorKind.NumberTooBig => "Is too large.",
        ValidationErrorKind.StringTooShort => "Is too short.",
        ValidationErrorKind.StringTooLong => "Is too long.",
        ValidationErrorKind.TooFewItems => "Has too few items.",
        ValidationErrorKind.TooManyItems => "Has too many items.",
        _ => $"Does not fit the activity's input schema ({error.Kind}).",
    };
}

/// <summary>A built-in activity with its versions, newest last.</summary>
public sealed record ActivityDefinition(string UniqueIdentifier, string Description, bool IsPure, IReadOnlyList<ActivityVersion> Versions)
{
    public ActivityVersion Latest => Versions[^1];

    public ActivityVersion? Find(int? version) => version is null ? Latest : Versions.FirstOrDefault(v => v.Version == version);
}

/// <summary>
/// The built-in activities, defined in code (DESIGN.md §4). There is no arbitrary code execution:
/// each activity is one of these, and its input is checked against its schema when a workflow is saved.
/// </summary>
public static class ActivityRegistry
{
    private const string Model = """
        {"type": "object", "additionalProperties": false, "properties": {
          "provider": {"type": "string"}, "model": {"type": "string"},
          "temperature": {"type": "number", "minimum": 0, "maximum": 2}, "maxTokens": {"type": "integer", "minimum": 1, "maximum": 1000000}}}
        """;

    private static string WithModel(string schema) => schema.Replace("\"$model\"", Model, StringComparison.Ordinal);

    public static IReadOnlyDictionary<string, ActivityDefinition> All { get; } = new[]
    {
        new ActivityDefinition("agent", "A persona works on a prompt in a tool-calling loop until it answers.", false,
        [
            new(1, WithModel("""
                {"type": "object", "additionalProperties": false, "required": ["prompt"], "properties": {
                  "persona": {"type": "string", "description": "Name or ID; default: the workflow's executingAgent."},
                  "prompt": {"type": "string"}, "instructions": {"type": "string"},
                  "parameters": {"type": "object"}, "skills": {"type": "array", "items": {"type": "string"}},
                  "maxTurns": {"type": "integer", "minimum": 1, "maximum": 100}, "model": "$model",
                  "outputFormat": {"type": "string", "enum": ["text", "markdown", "json"]}, "outputSchema": {"type": "object"},
                  "session": {"type": "boolean", "description": "Keep the conversation open for further prompts (POST …/runs/{id}/messages)."},
                  "sessionTimeout": {"type": "string", "description": "How long a session waits idle for a prompt before it ends (default 24h)."},
                  "infiniteSession": {"type": "boolean", "description": "Summarise older turns when the conversation nears contextTokens, so a session can go on indefinitely."},
                  "contextTokens": {"type": "integer", "minimum": 1000, "maximum": 10000000, "description": "The model's context window for infiniteSession (default 64000)."},
                  "ifBusy": {"type": "string", "enum": ["queue", "reject", "interrupt"], "description": "What a prompt does while the agent is still answering (default queue)."},
                  "toolApproval": {"type": "object", "description": "Tools (by name) whose every call waits for people's approval: {approvers, quorum, timeout, onTimeout, escalateTo}.",
                    "additionalProperties": {"type": "object"}},
                  "bypassMemory": {"type": "boolean", "description": "Ignore what the persona remembers, and remember nothing, for this step."},
                  "terse": {"type": "boolean", "description": "Ask for answers in as few words as possible."},
                  "tsvToolResults": {"type": "boolean", "description": "Give tabular tool results to the model as TSV instead of JSON."},
                  "images": {"type": "boolean", "description": "Show the model the run's image attachments and reference images (default true); false gives their names only."},
                  "guardrails": {"type": "array", "items": {"type": "string"}, "description": "Guardrails (names or IDs) over the persona's."}}}
                """), "{ text, json (for json output), turns, messages, usage, cost, provider, model, personaVersion, session (prompts, endedBy) }"),
        ]),
        new ActivityDefinition("llm", "One completion, with optional structured output.", false,
        [
            new(1, WithModel("""
                {"type": "object", "additionalProperties": false, "properties": {
                  "persona": {"type": "string"}, "system": {"type": "string"}, "prompt": {"type": "string"},
                  "messages": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["role", "content"], "properties": {
                    "role": {"type": "string", "enum": ["system", "user", "assistant"]}, "content": {"type": "string"}}}},
                  "model": "$model", "outputSchema": {"type": "object"},
                  "images": {"type": "boolean", "description": "Show the model the run's image attachments and reference images (default true); false gives their names only."},
                  "guardrails": {"type": "array", "items": {"type": "string"}, "description": "Guardrails (names or IDs) over the persona's."}}}
                """), "{ text, json (with outputSchema), usage, cost, provider, model }"),
        ]),
        new ActivityDefinition("triage", "A persona's filter picks, among candidates, the ones it takes on.", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["candidates"], "properties": {
                  "persona": {"type": "string"}, "candidates": {"type": "array"}, "instructions": {"type": "string"},
                  "confidenceThreshold": {"type": "number", "minimum": 0, "maximum": 1},
                  "issueSelectionStrategy": {"type": "string", "enum": ["highest_confidence", "first_match", "all_above_threshold", "round_robin"]}}}
                """, "{ selected: [ { candidate, confidence, reason } ], rejected: [...] }"),
        ]),
        new ActivityDefinition("http", "An HTTP request to an outside service (private addresses refused unless allowed); sends the attempt's Idempotency-Key.", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {
                  "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]},
                  "url": {"type": "string", "minLength": 1, "maxLength": 8192},
                  "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                  "query": {"type": "object", "additionalProperties": {"type": "string"}},
                  "body": {}, "timeout": {"type": "string"},
                  "responseType": {"type": "string", "enum": ["json", "text"]},
                  "successStatuses": {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}}}}
                """, "{ status, headers, body }"),
        ]),
        new ActivityDefinition("transform", "Its output is its input with every template evaluated.", true,
        [
            new(1, "{}", "the input, rendered"),
        ]),
        new ActivityDefinition("respond", "The answer a synchronous webhook gives its caller: status, headers and body (the run carries on).", true,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "properties": {
                  "status": {"type": "integer", "minimum": 200, "maximum": 599},
                  "headers": {"type": "object", "maxProperties": 50, "additionalProperties": {"type": "string", "maxLength": 8192}},
                  "body": {}}}
                """, "{ status, headers, body }"),
        ]),
        new ActivityDefinition("condition", "Evaluates a filter.", true,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["test"], "properties": {"test": {"type": "object"}}}
                """, "{ result: true | false }"),
        ]),
        new ActivityDefinition("switch", "The value of the first case whose filter holds, else the default.", true,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["cases"], "properties": {
                  "cases": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["when", "value"], "properties": {
                    "when": {"type": "object"}, "value": {}}}},
                  "default": {}}}
                """, "{ case: index or null, value }"),
        ]),
        new ActivityDefinition("loop", "Repeats the steps of its loop body until its until filter holds or maxIterations is reached.", false,
        [
            new(1, """{"type": "object", "additionalProperties": false, "properties": {}}""", "{ iterations, stoppedBy: until | maxIterations }"),
        ]),
        new ActivityDefinition("sleep", "Waits for a duration or until a time (a durable timer: nothing is held while waiting).", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1, "properties": {
                  "duration": {"type": "string"}, "until": {"type": "string", "format": "date-time"}}}
                """, "{ sleptUntil }"),
        ]),
        new ActivityDefinition("approval", "Waits for people to approve or reject (see the step's approval settings).", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "properties": {"message": {"type": "string"}, "data": {}}}
                """, "{ decision: approved, reason: quorum | timeout, approvalId, decisions: [ { by, decision, comment, at } ] }; a rejection (or a timeout that rejects) fails the step with approval_rejected"),
        ]),
        new ActivityDefinition("wait_for_event", "Waits for an event of a type (matching filters) to arrive.", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["eventType"], "properties": {
                  "eventType": {"type": "string"}, "filters": {"type": "object"}, "timeout": {"type": "string"}}}
                """, "{ event } or { timedOut: true }"),
        ]),
        new ActivityDefinition("emit_event", "Emits an event into the workspace (other workflows may react).", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {
                  "type": {"type": "string"}, "source": {"type": "string"}, "payload": {}}}
                """, "{ eventId }"),
        ]),
        new ActivityDefinition("run_workflow", "Starts another workflow as a child run, optionally waiting for its output.", false,
        [
            new(1, """
                {"type": "object", "additionalProperties": false, "required": ["workflow"], "properties": {
                  "workflow": {"type": "string"}, "input": {}, "wait": {"type": "boolean"}}}
                """, "{ runId, status, output (when waited) }"),
        ]),
    }.ToDictionary(a => a.UniqueIdentifier, StringComparer.Ordinal);
}
