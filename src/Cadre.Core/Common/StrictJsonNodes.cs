using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cadre.Common;

/// <summary>
/// Reads <see cref="JsonNode"/>-typed members strictly: an object naming a member twice, or a
/// string that is not valid UTF-16 (a lone surrogate escape), is a <see cref="JsonException"/> (so
/// a 400 naming the field) when it is read. System.Text.Json's node converters keep such values
/// and fail later, or throw <see cref="ArgumentException"/>, which <c>AllowDuplicateProperties</c>
/// does not reach.
/// </summary>
public sealed class StrictJsonNodeConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert == typeof(JsonNode) || typeToConvert == typeof(JsonObject) || typeToConvert == typeof(JsonArray);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private static void Check(JsonElement element, int depth = 0)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in element.EnumerateObject())
                {
                    if (!names.Add(Decode(() => member.Name)))
                    {
                        throw new JsonException($"The member '{member.Name}' appears twice in one object.");
                    }

                    Check(member.Value, depth + 1);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Check(item, depth + 1);
                }

                break;
            case JsonValueKind.String:
                Decode(element.GetString);
                break;
        }
    }

    private static string Decode(Func<string?> read)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException ex)
        {
            throw new JsonException("A string is not valid Unicode (a lone surrogate escape such as \\uD800).", ex);
        }
    }

    private sealed class Converter<T> : JsonConverter<T>
        where T : JsonNode
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            Check(document.RootElement);
            return JsonNode.Parse(document.RootElement.GetRawText()) switch
            {
                null => null,
                T node => node,
                _ => throw new JsonException($"Must be a JSON {(typeof(T) == typeof(JsonObject) ? "object" : "array")}."),
            };
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => value.WriteTo(writer, options);
    }
}
