using System.Text.Json.Nodes;

namespace Cadre.Common;

/// <summary>
/// RFC 7396 JSON Merge Patch over <see cref="JsonNode"/>: objects merge recursively, <c>null</c>
/// removes a member, anything else replaces. Hand-written because System.Text.Json has no merge
/// patch and the algorithm is the dozen lines of the RFC's pseudocode.
/// </summary>
public static class JsonMergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject is { } targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                var merged = Apply(result[name], value);
                result[name] = merged;
            }
        }

        return result;
    }
}
