using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Llm;

/// <summary>
/// <c>tsvToolResults</c>: a tool's tabular answer (a JSON array of flat objects, on its own or as an
/// HTTP tool's <c>body</c>) given to the model as tab-separated values, which spends far fewer
/// tokens than JSON repeating every key on every row. Anything else passes unchanged.
/// </summary>
internal static class Tabular
{
    public static object? Compact(object? result)
    {
        // AIFunctionFactory hands results back serialized: a tool's string arrives as a JSON string element.
        var text = result switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
            JsonElement element => element.GetRawText(),
            _ => null,
        };
        if (text is null || Parse(text) is not { } json)
        {
            return result;
        }

        if (Tsv(json) is { } table)
        {
            return table;
        }

        if (json is JsonObject response && (string?)(response["body"] as JsonValue) is { } body && Parse(body) is { } parsedBody && Tsv(parsedBody) is { } bodyTable)
        {
            response["body"] = bodyTable;
            return response.ToJsonString();
        }

        return result;
    }

    /// <summary>The rows as TSV (a header of every key, in first-seen order), or null when they are not a table.</summary>
    private static string? Tsv(JsonNode node)
    {
        if (node is not JsonArray { Count: > 0 } rows || rows.Any(r => r is not JsonObject row || row.Any(c => c.Value is JsonObject or JsonArray)))
        {
            return null;
        }

        var columns = rows.Cast<JsonObject>().SelectMany(r => r.Select(c => c.Key)).Distinct(StringComparer.Ordinal).ToList();
        var tsv = new StringBuilder(string.Join('\t', columns.Select(Cell))).Append('\n');
        foreach (var row in rows.Cast<JsonObject>())
        {
            tsv.Append(string.Join('\t', columns.Select(c => row[c] is JsonValue value ? Cell(value.GetValueKind() == JsonValueKind.String ? (string)value! : value.ToJsonString()) : ""))).Append('\n');
        }

        return tsv.ToString();
    }

    // Tabs and line breaks would split cells and rows.
    private static string Cell(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    private static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
