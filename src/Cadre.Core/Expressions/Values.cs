using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>
/// The value rules of the expression language, on <see cref="JsonNode"/>s: numbers are doubles (as
/// in JavaScript), <c>null</c>, <c>false</c>, <c>0</c> and <c>""</c> are falsy, equality is by value.
/// </summary>
internal static class Values
{
    public static JsonValue Number(double value) =>
        double.IsFinite(value) ? JsonValue.Create(value) : throw new ExpressionEvaluationException("The result is not a finite number.");

    public static JsonValue True { get; } = JsonValue.Create(true);

    public static JsonValue False { get; } = JsonValue.Create(false);

    public static JsonValue Bool(bool value) => JsonValue.Create(value);

    public static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;

    public static bool TryNumber(JsonNode? node, out double number)
    {
        number = 0;
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        // A JsonValue holds whatever CLR number it was made from, or a JsonElement when parsed.
        if (value.TryGetValue(out double d))
        {
            number = d;
        }
        else if (value.TryGetValue(out long l))
        {
            number = l;
        }
        else if (value.TryGetValue(out int i))
        {
            number = i;
        }
        else if (value.TryGetValue(out decimal m))
        {
            number = (double)m;
        }
        else if (value.TryGetValue(out JsonElement element))
        {
            number = element.GetDouble();
        }
        else
        {
            number = double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
        }

        return true;
    }

    public static bool TryString(JsonNode? node, out string text)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            text = value.GetValue<string>();
            return true;
        }

        text = "";
        return false;
    }

    public static bool IsTruthy(JsonNode? node) => Kind(node) switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.False => false,
        JsonValueKind.True => true,
        JsonValueKind.Number => TryNumber(node, out var n) && n != 0 && !double.IsNaN(n),
        JsonValueKind.String => ((JsonValue)node!).GetValue<string>().Length > 0,
        _ => true,
    };

    public static bool AreEqual(JsonNode? left, JsonNode? right)
    {
        var kind = Kind(left);
        if (kind != Kind(right))
        {
            return false;
        }

        return kind switch
        {
            JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False => true,
            JsonValueKind.Number => TryNumber(left, out var a) && TryNumber(right, out var b) && a == b,
            JsonValueKind.String => ((JsonValue)left!).GetValue<string>() == ((JsonValue)right!).GetValue<string>(),
            JsonValueKind.Array => left!.AsArray().Count == right!.AsArray().Count
                && left.AsArray().Zip(right.AsArray()).All(pair => AreEqual(pair.First, pair.Second)),
            _ => left!.AsObject().Count == right!.AsObject().Count
                && left.AsObject().All(member => right.AsObject().TryGetPropertyValue(member.Key, out var other) && AreEqual(member.Value, other)),
        };
    }

    /// <summary>How a value reads inside text: strings as they are, null as nothing, numbers invariantly, the rest as compact JSON.</summary>
    public static string ToText(JsonNode? node) => Kind(node) switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.String => ((JsonValue)node!).GetValue<string>(),
        JsonValueKind.Number => TryNumber(node, out var n) ? n.ToString(CultureInfo.InvariantCulture) : node!.ToJsonString(),
        _ => node!.ToJsonString(),
    };

    public static string TypeName(JsonNode? node) => Kind(node) switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => "number",
        JsonValueKind.String => "string",
        JsonValueKind.Array => "array",
        _ => "object",
    };

    /// <summary>A node that can be placed into a new tree: nodes read from the context already belong to one.</summary>
    public static JsonNode? Detached(JsonNode? node) => node?.Parent is null ? node : node.DeepClone();
}
