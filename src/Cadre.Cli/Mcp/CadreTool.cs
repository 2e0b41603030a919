using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Cadre.Cli.Mcp;

/// <summary>One parameter of a tool: its snake_case name, its JSON schema, whether it must be given.</summary>
internal sealed record ToolParameter(string Name, JsonObject Schema, bool Required = false);

/// <summary>
/// A tool of <c>cadre mcp</c>: a hand-written schema (snake_case names, limits, enums), the behaviour hints, and a
/// call to the API. A problem the API answers (a 403, a 404, a 422) comes back as a tool error carrying the problem's
/// text, so the assistant can read it and correct itself; it never ends the server.
/// </summary>
internal sealed class CadreTool : McpServerTool
{
    private readonly Func<ToolArguments, CancellationToken, Task<JsonNode?>> _call;
    private readonly List<string> _names;

    private CadreTool(Tool tool, IReadOnlyList<ToolParameter> parameters, Func<ToolArguments, CancellationToken, Task<JsonNode?>> call)
    {
        ProtocolTool = tool;
        _call = call;
        _names = [.. parameters.Select(p => p.Name)];
    }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata => [];

    /// <param name="readOnly">Only reads; else it changes something, and <paramref name="destructive"/> says whether that may be undone.</param>
    public static CadreTool Create(string name, string title, string description, IReadOnlyList<ToolParameter> parameters,
        Func<ToolArguments, CancellationToken, Task<JsonNode?>> call, bool readOnly, bool destructive = false, bool openWorld = false)
    {
        var properties = new JsonObject();
        foreach (var parameter in parameters)
        {
            properties[parameter.Name] = parameter.Schema.DeepClone();
        }

        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray([.. parameters.Where(p => p.Required).Select(p => (JsonNode)p.Name)]),
            ["additionalProperties"] = false,
        };
        var tool = new Tool
        {
            Name = name,
            Title = title,
            Description = description,
            InputSchema = JsonSerializer.SerializeToElement(schema),
            Annotations = new ToolAnnotations
            {
                Title = title,
                ReadOnlyHint = readOnly,
                // Hints about changes mean nothing for a tool that makes none.
                DestructiveHint = readOnly ? null : destructive,
                IdempotentHint = readOnly ? null : false,
                OpenWorldHint = openWorld,
            },
        };
        return new CadreTool(tool, parameters, call);
    }

    public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var given = request.Params?.Arguments ?? new Dictionary<string, JsonElement>();
        if (given.Keys.FirstOrDefault(key => !_names.Contains(key, StringComparer.Ordinal)) is { } unknown)
        {
            return Error(_names.Count == 0
                ? $"{ProtocolTool.Name} takes no arguments, not '{unknown}'."
                : $"{ProtocolTool.Name} has no argument '{unknown}'; it takes {string.Join(", ", _names)}.");
        }

        try
        {
            var answer = await _call(new ToolArguments(given), cancellationToken);
            return new CallToolResult { Content = [new TextContentBlock { Text = answer?.ToJsonString() ?? "null" }] };
        }
        catch (CliException ex)
        {
            // The API's problem (or an argument's), rendered for a reader: what the CLI would print after "error:".
            return Error(ex.Message);
        }
    }

    private static CallToolResult Error(string message) =>
        new() { IsError = true, Content = [new TextContentBlock { Text = message }] };
}

/// <summary>JSON schemas of tool parameters, briefly.</summary>
internal static class Schemas
{
    public static JsonObject String(string description, params string[] allowed)
    {
        var schema = new JsonObject { ["type"] = "string", ["description"] = description };
        if (allowed.Length > 0)
        {
            schema["enum"] = new JsonArray([.. allowed.Select(value => (JsonNode)value)]);
        }

        return schema;
    }

    public static JsonObject Integer(string description, long minimum, long maximum, long? defaultValue = null)
    {
        var schema = new JsonObject { ["type"] = "integer", ["description"] = description, ["minimum"] = minimum, ["maximum"] = maximum };
        if (defaultValue is { } value)
        {
            schema["default"] = value;
        }

        return schema;
    }

    public static JsonObject Object(string description) => new() { ["type"] = "object", ["description"] = description };

    /// <summary>Any JSON value (a run's input may be an object, an array, a string…).</summary>
    public static JsonObject Any(string description) => new() { ["description"] = description };
}

/// <summary>
/// A tool call's arguments, read by name and type. A wrong or missing one is a <see cref="CliException"/>, so it
/// reaches the assistant as a tool error saying which argument and why.
/// </summary>
internal sealed class ToolArguments(IDictionary<string, JsonElement> values)
{
    public string String(string name) =>
        OptionalString(name) ?? throw new CliException($"'{name}' is required.", ExitCodes.Usage);

    public string? OptionalString(string name) => Given(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value when value.GetString() is { Length: > 0 } text => text,
        { ValueKind: JsonValueKind.String } => null,
        _ => throw new CliException($"'{name}' must be a string.", ExitCodes.Usage),
    };

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public string? OptionalChoice(string name, params string[] allowed) => OptionalString(name) switch
    {
        null => null,
        var value when allowed.Contains(value, StringComparer.Ordinal) => value,
        var value => throw new CliException($"'{name}' must be one of {string.Join(", ", allowed)}, not '{value}'.", ExitCodes.Usage),
    };

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>; a string of digits is taken too (some models send them).</summary>
    public long? OptionalInteger(string name, long minimum, long maximum)
    {
        long number;
        switch (Given(name))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.Number } value when value.TryGetInt64(out var whole):
                number = whole;
                break;
            case { ValueKind: JsonValueKind.String } value when long.TryParse(value.GetString(), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var parsed):
                number = parsed;
                break;
            default:
                throw new CliException($"'{name}' must be a whole number.", ExitCodes.Usage);
        }

        return number >= minimum && number <= maximum
            ? number
            : throw new CliException($"'{name}' must be from {minimum} to {maximum}, not {number}.", ExitCodes.Usage);
    }

    /// <summary>Any JSON value as given.</summary>
    public JsonNode? OptionalJson(string name) => Given(name) is { } value ? JsonNode.Parse(value.GetRawText()) : null;

    public JsonObject Object(string name) => Given(name) switch
    {
        null => throw new CliException($"'{name}' is required.", ExitCodes.Usage),
        { ValueKind: JsonValueKind.Object } value => JsonNode.Parse(value.GetRawText())!.AsObject(),
        _ => throw new CliException($"'{name}' must be a JSON object.", ExitCodes.Usage),
    };

    /// <summary>The argument, or null when absent or JSON null (an assistant's way of leaving it out).</summary>
    private JsonElement? Given(string name) =>
        values.TryGetValue(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? value : null;
}
