using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cadre.Common;

/// <summary>
/// Turns System.Text.Json's failures into field errors a client can act on: the JSON path of the
/// bad member and the JSON type it must have, found by walking the target type along the path
/// (the serializer's own message names the enclosing .NET record, not the member).
/// </summary>
public static partial class JsonErrors
{
    /// <summary>The field the error is about (<c>name</c>, <c>settings.a</c>, or <c>body</c> for the whole document) and a message.</summary>
    public static (string Field, string Message) Describe(JsonException exception, Type? requestType)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = exception.Message;
        var field = FieldFromPath(exception.Path);

        var unmapped = UnmappedMember().Match(message);
        if (unmapped.Success)
        {
            var member = unmapped.Groups["member"].Value;
            var unknownField = field == "body" ? member : field.EndsWith(member, StringComparison.Ordinal) ? field : $"{field}.{member}";
            return (unknownField, "Is not a field of this request; unknown fields are rejected so typos do not go unnoticed.");
        }

        if (message.Contains("could not be converted to", StringComparison.Ordinal))
        {
            var expected = requestType is null ? null : MemberType(requestType, field == "body" ? [] : field.Split('.'));
            return (field, expected is null ? "Has the wrong JSON type." : $"Must be {JsonTypeOf(expected)}.");
        }

        // Syntax errors: keep the parser's sentence, drop the location suffix (the field says where)
        // and its advice to change reader options, which only the server could do.
        var sentence = message.Split(" Path:", 2)[0].Replace(" Change the reader options.", "", StringComparison.Ordinal);
        return (field, $"Is not valid JSON: {sentence}");
    }

    private static string FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Length == 0 ? "body" : field;
    }

    /// <summary>The declared type at a camelCase member path, or null where the path leaves typed ground (inside a JsonObject).</summary>
    private static Type? MemberType(Type type, string[] path)
    {
        var current = type;
        foreach (var raw in path)
        {
            var bracket = raw.IndexOf('[', StringComparison.Ordinal);
            var segment = bracket >= 0 ? raw[..bracket] : raw;
            var property = current.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return null;
            }

            current = property.PropertyType;
            if (bracket >= 0)
            {
                // An element of a list: step into the element type.
                current = current.IsArray ? current.GetElementType()! : current.GetGenericArguments().FirstOrDefault() ?? current;
            }
        }

        return current;
    }

    private static string JsonTypeOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "an integer",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "an ISO-8601 date-time string such as 2030-01-31T12:00:00Z",
            _ when type == typeof(JsonArray) || (type != typeof(JsonObject) && typeof(IEnumerable).IsAssignableFrom(type) && !typeof(IDictionary).IsAssignableFrom(type)) => "a JSON array",
            _ when type.IsEnum => "one of the documented string values",
            _ => "a JSON object",
        };
    }

    [GeneratedRegex("The JSON property '(?<member>[^']*)' could not be mapped", RegexOptions.CultureInvariant)]
    private static partial Regex UnmappedMember();
}
