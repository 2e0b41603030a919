using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Common;

/// <summary>One field that differs between two versions, by JSON path (<c>model.temperature</c>, <c>tags</c>, <c>examples[1].output</c>).</summary>
/// <param name="Op"><c>added</c>, <c>removed</c> or <c>changed</c>.</param>
public sealed record FieldChange(string Path, string Op, JsonNode? Before, JsonNode? After);

/// <summary>
/// Field-level differences between two versions of a definition (a persona, a workflow). Objects are compared member by member;
/// lists of plain values (tags, departments) as a whole, lists of objects (examples, parameters)
/// item by item; so a change reads as the field a person edited.
/// </summary>
public static class JsonDiff
{
    public static IReadOnlyList<FieldChange> Compare(JsonNode? before, JsonNode? after)
    {
        var changes = new List<FieldChange>();
        Walk("", before, after, changes);
        return changes;
    }

    private static void Walk(string path, JsonNode? before, JsonNode? after, List<FieldChange> changes)
    {
        if (JsonNode.DeepEquals(before, after))
        {
            return;
        }

        if (before is JsonObject beforeObject && after is JsonObject afterObject)
        {
            foreach (var name in beforeObject.Select(p => p.Key).Union(afterObject.Select(p => p.Key)))
            {
                Walk(path.Length == 0 ? name : $"{path}.{name}", beforeObject[name], afterObject[name], changes);
            }

            return;
        }

        if (before is JsonArray beforeArray && after is JsonArray afterArray
            && beforeArray.Concat(afterArray).Any(item => item is JsonObject))
        {
            for (var i = 0; i < Math.Max(beforeArray.Count, afterArray.Count); i++)
            {
                Walk($"{path}[{i}]", i < beforeArray.Count ? beforeArray[i] : null, i < afterArray.Count ? afterArray[i] : null, changes);
            }

            return;
        }

        var op = before is null || before.GetValueKind() == JsonValueKind.Null ? "added"
            : after is null || after.GetValueKind() == JsonValueKind.Null ? "removed"
            : "changed";
        changes.Add(new FieldChange(path, op, before?.DeepClone(), after?.DeepClone()));
    }
}
