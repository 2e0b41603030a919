using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cadre.Common;

/// <summary>
/// How stored definitions (personas, workflows) are read and written: camelCase, unknown members
/// and duplicate names refused, numbers only as numbers, nulls left out.
/// </summary>
public static class StrictJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
        AllowDuplicateProperties = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new StrictJsonNodeConverterFactory() },
    };
}
