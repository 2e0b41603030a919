using System.Text.Json.Nodes;
using Cadre.Expressions;

namespace Cadre.Secrets;

/// <summary>
/// Finds the secrets a definition reads: <c>secrets.NAME</c> and <c>secrets['NAME']</c> in its
/// templates, through the expressions' own syntax trees (<see cref="Expression.MembersOf"/>, the
/// reader the workflow rules use for <c>steps.x</c>). A run decrypts exactly these, and nothing else.
/// </summary>
internal static class SecretReferences
{
    public const string Root = "secrets";

    public const string ByNameOnly = "Read secrets by a fixed name, secrets.NAME or secrets['NAME']: a run decrypts only the secrets its definition names.";

    /// <summary>The names read by <paramref name="expressions"/>, in order, each once.</summary>
    public static IReadOnlyList<string> In(IEnumerable<Expression> expressions) =>
        [.. expressions.SelectMany(e => e.MembersOf(Root)).Distinct(StringComparer.Ordinal)];

    /// <summary>The names read by every template in a JSON document, member names included (filters put templates there).</summary>
    public static IReadOnlyList<string> In(JsonNode? document) => In([document]);

    /// <summary>The names read by every template in the documents, in order, each once.</summary>
    public static IReadOnlyList<string> In(IEnumerable<JsonNode?> documents) => In(documents.SelectMany(Templates).SelectMany(t => t.Expressions));

    /// <summary>The names read by the templates of one text.</summary>
    public static IReadOnlyList<string> In(string? text) => In(Templates(text).SelectMany(t => t.Expressions));

    private static IEnumerable<Template> Templates(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    foreach (var template in Templates(key).Concat(Templates(value)))
                    {
                        yield return template;
                    }
                }

                break;
            case JsonArray array:
                foreach (var template in array.SelectMany(Templates))
                {
                    yield return template;
                }

                break;
            case JsonValue value when Values.TryString(value, out var text):
                foreach (var template in Templates(text))
                {
                    yield return template;
                }

                break;
        }
    }

    private static IEnumerable<Template> Templates(string? text)
    {
        if (text is null || !text.Contains("{{", StringComparison.Ordinal))
        {
            return [];
        }

        try
        {
            return [Template.Parse(text)];
        }
        catch (ExpressionSyntaxException)
        {
            // The definition's rules report it; a template that does not parse reads nothing.
            return [];
        }
    }
}
