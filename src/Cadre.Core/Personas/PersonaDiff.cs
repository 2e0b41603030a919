using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Personas;

/// <summary>
/// Field-level differences between two persona documents. Objects are compared member by member;
/// lists of plain values (tags, departments) as a whole, lists of objects (examples, parameters)
/// item by item; so a change reads as the field a person edited.
/// </summary>
public static class PersonaDiff
{
    public static IReadOnlyList<PersonaFieldChange> Compare(JsonNode? before, JsonNode? after)
    {
        var changes = new List<PersonaFieldChange>();
        Walk("", before, after, changes);
        return changes;
    }

    private static void Walk(string path, JsonNode? before, JsonNode? after, List<PersonaFieldChange> changes)
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
        changes.Add(new PersonaFieldChange(path, op, before?.DeepClone(), after?.DeepClone()));
    }
}
