using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Common;

/// <summary>Checks that a JSON Schema document is one (for structured output, and later event payloads).</summary>
public static partial class JsonSchemas
{
    public const int MaxBytes = 64 * 1024;

    private static readonly HashSet<string> Types = ["string", "number", "integer", "boolean", "object", "array", "null"];

    /// <summary>
    /// Null when <paramref name="schema"/> is a usable JSON Schema, else why not. NJsonSchema reads
    /// it (wrong shapes of keywords, broken <c>$ref</c>s); it accepts unknown <c>type</c> names, so
    /// those are checked here.
    /// </summary>
    /// <summary>Where <paramref name="value"/> breaks <paramref name="schema"/> (a schema <see cref="Check"/> accepted): a path and a reason each; empty when it follows it.</summary>
    public static IReadOnlyList<string> Validate(JsonObject schema, JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var parsed = NJsonSchema.JsonSchema.FromJsonAsync(schema.ToJsonString(), documentPath: null,
            s => new LocalReferencesOnly(new NJsonSchema.JsonSchemaAppender(s, new NJsonSchema.DefaultTypeNameGenerator()))).GetAwaiter().GetResult();
        return [.. parsed.Validate(value?.ToJsonString() ?? "null").Select(e => $"{(string.IsNullOrEmpty(e.Path) ? "#" : e.Path)}: {e.Kind}")];
    }

    public static string? Check(JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var text = schema.ToJsonString();
        if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxBytes)
        {
            return $"Must be at most {MaxBytes / 1024} KiB.";
        }

        if (BadType(schema) is { } badType)
        {
            return badType;
        }

        try
        {
            // Only references inside the document resolve, so reading never does I/O and the wait is not a real block.
            NJsonSchema.JsonSchema.FromJsonAsync(text, documentPath: null,
                schema => new LocalReferencesOnly(new NJsonSchema.JsonSchemaAppender(schema, new NJsonSchema.DefaultTypeNameGenerator()))).GetAwaiter().GetResult();
            return null;
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or InvalidOperationException or ArgumentException or NotSupportedException or ExternalReferenceException)
        {
            // NJsonSchema wraps what the resolver throws.
            for (var inner = ex; inner is not null; inner = inner.InnerException)
            {
                if (inner is ExternalReferenceException external)
                {
                    return external.Message;
                }
            }

            // Keep NJsonSchema's pointer to the bad keyword, drop its .NET type names.
            var path = SchemaPath().Match(ex.Message);
            return path.Success
                ? $"Is not a valid JSON Schema: the keyword at '{path.Groups["path"].Value}' has the wrong shape."
                : $"Is not a valid JSON Schema: {ex.Message.Split('\n')[0]}";
        }
    }

    // Keywords whose value is a map of name → schema, and those whose value is a schema or a list of schemas.
    private static readonly string[] SchemaMaps = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

    private static readonly string[] Subschemas =
    [
        "items", "additionalItems", "additionalProperties", "unevaluatedItems", "unevaluatedProperties", "propertyNames", "contains",
        "not", "if", "then", "else", "allOf", "anyOf", "oneOf", "prefixItems",
    ];

    /// <summary>A <c>type</c> keyword naming no JSON type, found by walking schemas only (a property may be named "type").</summary>
    private static string? BadType(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray list:
                return list.Select(BadType).FirstOrDefault(error => error is not null);
            case not JsonObject:
                return null;
        }

        var schema = (JsonObject)node;
        if (schema["type"] is { } type)
        {
            var names = type is JsonArray array
                ? array.Select(n => n?.GetValueKind() == System.Text.Json.JsonValueKind.String ? n.GetValue<string>() : null)
                : [type.GetValueKind() == System.Text.Json.JsonValueKind.String ? type.GetValue<string>() : null];
            if (names.Any(name => name is null || !Types.Contains(name)))
            {
                return $"Is not a valid JSON Schema: 'type' must be one of {string.Join(", ", Types)}, or a list of them.";
            }
        }

        foreach (var keyword in SchemaMaps)
        {
            if (schema[keyword] is JsonObject map && map.Select(member => BadType(member.Value)).FirstOrDefault(error => error is not null) is { } error)
            {
                return error;
            }
        }

        return Subschemas.Select(keyword => BadType(schema[keyword])).FirstOrDefault(error => error is not null);
    }

    /// <summary>
    /// Refuses <c>$ref</c>s to files and URLs: NJsonSchema's default resolver would fetch them, letting
    /// anyone who can save a persona make the server read local files or call internal addresses.
    /// </summary>
    private sealed class LocalReferencesOnly(NJsonSchema.JsonSchemaAppender appender) : NJsonSchema.JsonReferenceResolver(appender)
    {
        public override Task<NJsonSchema.References.IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            throw new ExternalReferenceException(filePath);

        public override Task<NJsonSchema.References.IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            throw new ExternalReferenceException(url);
    }

    private sealed class ExternalReferenceException(string reference)
        : Exception($"Is not a usable JSON Schema: '$ref' may only point inside the schema (such as #/$defs/item), not to '{reference}'.");

    [GeneratedRegex("Path '(?<path>[^']*)'", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaPath();
}
