using System.Text.Json.Nodes;

namespace Cadre.Expressions;

/// <summary>
/// A JSON document whose string values may be templates (a step's <c>input</c>, a transform):
/// parsed once, rendered into a new document with every template evaluated. Member names are
/// taken as written.
/// </summary>
public sealed class JsonTemplate
{
    private readonly Func<ExpressionScope, JsonNode?> _render;

    private JsonTemplate(Func<ExpressionScope, JsonNode?> render, IReadOnlyList<(string Path, Expression Expression)> placeholders)
    {
        _render = render;
        Placeholders = placeholders;
    }

    /// <summary>Every expression in the document, in document order.</summary>
    public IEnumerable<Expression> Expressions => Placeholders.Select(p => p.Expression);

    /// <summary>Every expression with the JSON path of the string holding it (empty for a bare string document).</summary>
    public IReadOnlyList<(string Path, Expression Expression)> Placeholders { get; }

    /// <summary>
    /// Parses every string in <paramref name="document"/>. A syntax error is a
    /// <see cref="JsonTemplateException"/> naming the JSON path of the string and the position in it.
    /// </summary>
    public static JsonTemplate Parse(JsonNode? document, ExpressionOptions? options = null)
    {
        options ??= ExpressionOptions.Default;
        var placeholders = new List<(string, Expression)>();
        var render = Compile(document, "", options, placeholders);
        return new JsonTemplate(render, placeholders);
    }

    public JsonNode? Render(ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return _render(scope);
    }

    private static Func<ExpressionScope, JsonNode?> Compile(JsonNode? node, string path, ExpressionOptions options, List<(string, Expression)> placeholders)
    {
        switch (node)
        {
            case JsonObject obj:
                var members = obj.Select(m => (m.Key, Render: Compile(m.Value, path.Length == 0 ? m.Key : $"{path}.{m.Key}", options, placeholders))).ToArray();
                return scope =>
                {
                    var result = new JsonObject();
                    foreach (var (key, render) in members)
                    {
                        result[key] = render(scope);
                    }

                    return result;
                };
            case JsonArray array:
                var items = array.Select((item, i) => Compile(item, $"{path}[{i}]", options, placeholders)).ToArray();
                return scope => new JsonArray([.. items.Select(render => render(scope))]);
            case JsonValue value when Values.TryString(value, out var text) && text.Contains("{{", StringComparison.Ordinal):
                Template template;
                try
                {
                    template = Template.Parse(text, options);
                }
                catch (ExpressionSyntaxException ex)
                {
                    throw new JsonTemplateException(path, ex);
                }

                placeholders.AddRange(template.Expressions.Select(e => (path, e)));
                return template.Render;
            default:
                var constant = node?.DeepClone();
                return _ => constant?.DeepClone();
        }
    }
}

/// <summary>A template inside a JSON document that cannot be read: where in the document, and what.</summary>
public sealed class JsonTemplateException(string path, ExpressionSyntaxException inner)
    : Exception($"{(path.Length == 0 ? "The value" : path)}: {inner.Message}", inner)
{
    /// <summary>The JSON path of the string holding the template (empty for a bare string document).</summary>
    public string Path { get; } = path;

    public ExpressionSyntaxException Syntax { get; } = inner;
}
