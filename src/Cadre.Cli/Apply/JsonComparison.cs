using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Cli.Apply;

/// <summary>A field a file changes: where, what the server has (null: nothing), and what the file says.</summary>
internal sealed record FieldChange(string Path, JsonNode? Before, JsonNode? After);

/// <summary>
/// Compares what a file declares with the server's document, only where the file says something: the server
/// fills defaults and adds members (IDs, versions, a workflow's layout) that a file need not repeat, so only the
/// declared members count, inside objects too. Lists are compared item by item and must have the same length.
/// Text compares without the whitespace at its ends (the server trims most fields; YAML's <c>|</c> adds a newline),
/// numbers by value (<c>1</c> is <c>1.0</c>), and null, <c>""</c>, <c>[]</c> and <c>{}</c> match an absent member.
/// </summary>
internal static class JsonComparison
{
    // Diffs are read by people: accents and quotes as they are, not \u escapes.
    private static readonly JsonSerializerOptions Display = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static List<FieldChange> Differences(JsonObject declared, JsonObject current, IReadOnlySet<string> ignored)
    {
        ArgumentNullException.ThrowIfNull(declared);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(ignored);
        var changes = new List<FieldChange>();
        foreach (var (name, value) in declared)
        {
            if (!ignored.Contains(name))
            {
                Compare(value, current[name], name, changes);
            }
        }

        return changes;
    }

    private static void Compare(JsonNode? declared, JsonNode? current, string path, List<FieldChange> changes)
    {
        if (IsEmpty(declared) && IsEmpty(current))
        {
            return;
        }

        switch (declared)
        {
            case JsonObject members when current is JsonObject currentMembers:
                foreach (var (name, value) in members)
                {
                    Compare(value, currentMembers[name], $"{path}.{name}", changes);
                }

                return;
            case JsonArray items when current is JsonArray currentItems && items.Count == currentItems.Count:
                for (var i = 0; i < items.Count; i++)
                {
                    Compare(items[i], currentItems[i], $"{path}[{i}]", changes);
                }

                return;
            case JsonValue value when current is JsonValue currentValue && ScalarsEqual(value, currentValue):
                return;
        }

        changes.Add(new FieldChange(path, current?.DeepClone(), declared?.DeepClone()));
    }

    private static bool IsEmpty(JsonNode? node) => node switch
    {
        null => true,
        JsonObject members => members.Count == 0,
        JsonArray items => items.Count == 0,
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.Null => true,
            JsonValueKind.String => string.IsNullOrWhiteSpace(value.GetValue<string>()),
            _ => false,
        },
        _ => false,
    };

    private static bool ScalarsEqual(JsonValue declared, JsonValue current)
    {
        var kind = declared.GetValueKind();
        if (kind != current.GetValueKind())
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.String => string.Equals(declared.GetValue<string>().Trim(), current.GetValue<string>().Trim(), StringComparison.Ordinal),
            JsonValueKind.Number => Number(declared) is { } a && Number(current) is { } b ? a == b : declared.ToJsonString() == current.ToJsonString(),
            _ => JsonNode.DeepEquals(declared, current),
        };
    }

    private static decimal? Number(JsonValue value) =>
        decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;

    /// <summary>A value as a diff shows it: compact JSON, long ones cut, <c>(none)</c> for nothing.</summary>
    public static string Show(JsonNode? node)
    {
        if (node is null)
        {
            return "(none)";
        }

        var text = node.ToJsonString(Display);
        return text.Length > 100 ? text[..99] + "…" : text;
    }
}
