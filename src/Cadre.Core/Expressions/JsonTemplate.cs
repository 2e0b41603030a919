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

    private JsonTemplate(Func<ExpressionScope, JsonNode?> render, IReadOnlyList<Expression> expressions)
    {
        _render = render;
        Expressions = expressions;
    }

    /// <summary>Every expression in the document, in document order.</summary>
    public IReadOnlyList<Expression> Expressions { get; }

    /// <summary>
    /// Parses every string in <paramref name="document"/>. A syntax error is a
    /// <see cref="JsonTemplateException"/> naming the JSON path of the string and the position in it.
    /// </summary>
    public static JsonTemplate Parse(JsonNode? document, ExpressionOptions? options = null)
    {
        options ??= ExpressionOptions.Default;
        var expressions = new List<Expression>();
        var render = Compile(document, "", options, expressions);
        return new JsonTemplate(render, expressions);
    }

    public JsonNode? Render(ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return _render(scope);
    }

    private static Func<ExpressionScope, JsonNode?> Compile(JsonNode? node, string path, ExpressionOptions options, List<Expression> expressions)
    {
        switch (node)
        {
            case JsonObject obj:
                var members = obj.Select(m => (m.Key, Render: Compile(m.Value, path.Length == 0 ? m.Key : $"{path}.{m.Key}", options, expressions))).ToArray();
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
                var items = array.Select((item, i) => Compile(item, $"{path}[{i}]", options, expressions)).ToArray();
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

                expressions.AddRange(template.Expressions);
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
